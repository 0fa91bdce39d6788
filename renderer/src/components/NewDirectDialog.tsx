// A direct message to someone (or a group: several usernames, comma-separated), with the people already known offered.
import { useState, type FormEvent } from 'react';
import { errorText } from '../bridge/index.ts';
import { openDirect } from '../state/app.ts';
import { useContacts } from '../state/contacts.ts';
import { useSession } from '../state/session.ts';
import { Dialog } from './Dialog.tsx';
import { ErrorLine } from './ErrorLine.tsx';

export function NewDirectDialog({ onClose }: { onClose(): void }) {
  const me = useSession((s) => s.me?.username);
  const known = Object.values(useContacts((s) => s.byUsername)).filter((c) => c.username !== me);
  const [who, setWho] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const names = who.split(',').map((n) => n.trim().replace(/^@/, '')).filter(Boolean).join(',');
    setBusy(true);
    try {
      await openDirect(names);
      onClose();
    } catch (failure) {
      setError(errorText(failure));
      setBusy(false);
    }
  };
  return (
    <Dialog title="Start a direct message" onClose={onClose}>
      <form onSubmit={submit}>
        <div className="field">
          <label htmlFor="direct-to">To (username, or several separated by commas)</label>
          <input id="direct-to" value={who} required autoFocus list="known-people" spellCheck={false} onChange={(e) => setWho(e.target.value.toLowerCase())} />
          <datalist id="known-people">
            {known.map((c) => <option key={c.username} value={c.username}>{c.displayName}</option>)}
          </datalist>
        </div>
        <ErrorLine error={error} />
        <div className="actions">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="primary" disabled={busy}>{busy ? 'Opening…' : 'Open'}</button>
        </div>
      </form>
    </Dialog>
  );
}
