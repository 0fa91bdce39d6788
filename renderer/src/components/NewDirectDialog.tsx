// A direct message to someone (or a group: several usernames, comma-separated), with the people already known offered.
import { useState } from 'react';
import { openDirect } from '../state/app.ts';
import { useContacts } from '../state/contacts.ts';
import { useSession } from '../state/session.ts';
import { FormDialog, PeopleSuggestions } from './FormDialog.tsx';

export function NewDirectDialog({ onClose }: { onClose(): void }) {
  const me = useSession((s) => s.me?.username);
  const known = Object.values(useContacts((s) => s.byUsername)).filter((c) => c.username !== me);
  const [who, setWho] = useState('');
  const names = () => who.split(',').map((n) => n.trim().replace(/^@/, '')).filter(Boolean).join(',');
  return (
    <FormDialog title="Start a direct message" action={{ label: 'Open', busy: 'Opening…' }} onClose={onClose} submit={() => openDirect(names())}>
      <div className="field">
        <label htmlFor="direct-to">To (username, or several separated by commas)</label>
        <input id="direct-to" value={who} required autoFocus list="known-people" spellCheck={false} onChange={(e) => setWho(e.target.value.toLowerCase())} />
        <PeopleSuggestions id="known-people" people={known} />
      </div>
    </FormDialog>
  );
}
