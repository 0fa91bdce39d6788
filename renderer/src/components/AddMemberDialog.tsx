// Adding someone to a channel (its owner or an admin may): they get the channel's history from now on.
import { useState } from 'react';
import { USERNAME_MAX, USERNAME_PATTERN } from '../lib/limits.ts';
import { addMember } from '../state/app.ts';
import { useContacts } from '../state/contacts.ts';
import type { Conversation } from '../state/types.ts';
import { FormDialog, PeopleSuggestions } from './FormDialog.tsx';

export function AddMemberDialog({ channel, onClose }: { channel: Conversation; onClose(): void }) {
  const known = Object.values(useContacts((s) => s.byUsername)).filter((c) => !channel.members.includes(c.username));
  const [username, setUsername] = useState('');
  return (
    <FormDialog title={`Add people to #${channel.name}`} action={{ label: 'Add', busy: 'Adding…' }} onClose={onClose}
      submit={() => addMember(channel.id, username.replace(/^@/, ''))}>
      <div className="field">
        <label htmlFor="member-username">Username</label>
        <input id="member-username" value={username} required autoFocus pattern={`@?${USERNAME_PATTERN}`} maxLength={USERNAME_MAX + 1} list="member-candidates" spellCheck={false}
          onChange={(e) => setUsername(e.target.value.toLowerCase())} />
        <PeopleSuggestions id="member-candidates" people={known} />
      </div>
    </FormDialog>
  );
}
