// A new channel: its name (as the contract allows it), an optional topic, and whether everyone in the organisation
// may join it.
import { useState } from 'react';
import { CHANNEL_NAME_MAX, CHANNEL_NAME_PATTERN, TOPIC_MAX } from '../lib/limits.ts';
import { createChannel } from '../state/app.ts';
import { FormDialog } from './FormDialog.tsx';

export function CreateChannelDialog({ onClose }: { onClose(): void }) {
  const [name, setName] = useState('');
  const [topic, setTopic] = useState('');
  const [open, setOpen] = useState(false);
  return (
    <FormDialog title="Create a channel" action={{ label: 'Create', busy: 'Creating…' }} onClose={onClose} submit={() => createChannel(name, topic.trim(), open)}>
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
    </FormDialog>
  );
}
