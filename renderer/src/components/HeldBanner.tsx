// Above a direct or group conversation in which someone's identity key changed and the user has not accepted it:
// what they write is held, not sent, and the banner says so with the two ways out. An unverified contact's new key
// can be accepted here; a verified contact's must be verified again (compare the new safety number), as the engine
// requires. Nothing the relay sends can take the banner away: only the user's click.
import { useState } from 'react';
import { errorText } from '../bridge/index.ts';
import { useContacts } from '../state/contacts.ts';
import { useSession } from '../state/session.ts';
import { acceptIdentity, openProfile } from '../state/trust-actions.ts';
import { awaitingAcceptance } from '../state/trust.ts';
import type { Contact, Conversation } from '../state/types.ts';
import { ErrorLine } from './ErrorLine.tsx';

function HeldFor({ contact }: { contact: Contact }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const name = contact.displayName ? `${contact.displayName} (${contact.username})` : contact.username;
  const wasVerified = contact.identity === 'changed-while-verified';
  const id = `held-${contact.username}`;
  const accept = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await acceptIdentity(contact.username);
    } catch (failure) {
      setError(errorText(failure));
      setBusy(false);
    }
  };
  return (
    <section className="banner warn held-banner" aria-labelledby={id}>
      <p id={id} role="alert">
        <strong>{name}&apos;s safety number changed; your messages are held until you {wasVerified ? 'verify it again' : 'accept'}.</strong>{' '}
        {wasVerified
          ? 'You had verified them: compare the new safety number before anything is sent.'
          : 'They may have reinstalled Wardroom, or someone may be impersonating them.'}
      </p>
      <div className="banner-actions">
        <button type="button" onClick={() => openProfile(contact.username)}>Review</button>
        {wasVerified
          ? <button type="button" className="primary" onClick={() => openProfile(contact.username)}>Re-verify to send</button>
          : <button type="button" className="primary" disabled={busy} onClick={() => void accept()}>Accept and send</button>}
      </div>
      <ErrorLine error={error} />
    </section>
  );
}

export function HeldBanner({ conversation }: { conversation: Conversation }) {
  const contacts = useContacts((s) => s.byUsername);
  const me = useSession((s) => s.me?.username);
  if (conversation.kind === 'channel') return null;
  const waiting = awaitingAcceptance(conversation.kind === 'direct' ? [conversation.name, ...conversation.members] : conversation.members, me, contacts);
  const unique = [...new Map(waiting.map((c) => [c.username, c])).values()];
  return <>{unique.map((contact) => <HeldFor key={contact.username} contact={contact} />)}</>;
}
