// Adding someone to a channel (its owner or an admin may): they get the channel's history from now on.
import { useState, type FormEvent } from 'react';
import { errorText } from '../bridge/index.ts';
import { USERNAME_MAX, USERNAME_PATTERN } from '../lib/limits.ts';
import { addMember } from '../state/app.ts';
import { useContacts } from '../state/contacts.ts';
import type { Conversation } from '../state/types.ts';
import { Dialog } from './Dialog.tsx';
import { ErrorLine } from './ErrorLine.tsx';

export function AddMemberDialog({ channel, onClose }: { channel: Conversation; onClose(): void }) {
  const known = Object.values(useContacts((s) => s.byUsername)).filter((c) => !channel.members.includes(c.username));
  const [username, setUsername] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    try {
      await addMember(channel.id, username.replace(/^@/, ''));
      onClose();
    } catch (failure) {
      setError(errorText(failure));
      setBusy(false);
    }
  };
  return (
    <Dialog title={`Add people to #${channel.name}`} onClose={onClose}>
      <form onSubmit={submit}>
        <div className="field">
          <label htmlFor="member-username">Username</label>
          <input id="member-username" value={username} required autoFocus pattern={`@?${USERNAME_PATTERN}`} maxLength={USERNAME_MAX + 1} list="member-candidates" spellCheck={false}
            onChange={(e) => setUsername(e.target.value.toLowerCase())} />
          <datalist id="member-candidates">
            {known.map((c) => <option key={c.username} value={c.username}>{c.displayName}</option>)}
          </datalist>
        </div>
        <ErrorLine error={error} />
        <div className="actions">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="primary" disabled={busy}>{busy ? 'Adding…' : 'Add'}</button>
        </div>
      </form>
    </Dialog>
  );
}
