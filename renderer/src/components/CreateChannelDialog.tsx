// A new channel: its name (as the contract allows it), an optional topic, and whether everyone in the organisation
// may join it.
import { useState, type FormEvent } from 'react';
import { errorText } from '../bridge/index.ts';
import { CHANNEL_NAME_MAX, CHANNEL_NAME_PATTERN, TOPIC_MAX } from '../lib/limits.ts';
import { createChannel } from '../state/app.ts';
import { Dialog } from './Dialog.tsx';
import { ErrorLine } from './ErrorLine.tsx';

export function CreateChannelDialog({ onClose }: { onClose(): void }) {
  const [name, setName] = useState('');
  const [topic, setTopic] = useState('');
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    try {
      await createChannel(name, topic.trim(), open);
      onClose();
    } catch (failure) {
      setError(errorText(failure));
      setBusy(false);
    }
  };
  return (
    <Dialog title="Create a channel" onClose={onClose}>
      <form onSubmit={submit}>
        <div className="field">
          <label htmlFor="channel-name">Name</label>
          <input id="channel-name" value={name} required autoFocus pattern={CHANNEL_NAME_PATTERN} maxLength={CHANNEL_NAME_MAX} spellCheck={false}
            aria-describedby="channel-name-hint" onChange={(e) => setName(e.target.value.toLowerCase().replace(/\s/g, '-'))} />
          <span id="channel-name-hint" className="hint">Lowercase letters, digits, dash and underscore.</span>
        </div>
        <div className="field">
          <label htmlFor="channel-topic">Topic (optional)</label>
          <input id="channel-topic" value={topic} maxLength={TOPIC_MAX} onChange={(e) => setTopic(e.target.value)} />
        </div>
        <div className="check">
          <input id="channel-open" type="checkbox" checked={open} onChange={(e) => setOpen(e.target.checked)} />
          <label htmlFor="channel-open">Anyone in the organisation may join</label>
        </div>
        <ErrorLine error={error} />
        <div className="actions">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="primary" disabled={busy}>{busy ? 'Creating…' : 'Create'}</button>
        </div>
      </form>
    </Dialog>
  );
}
