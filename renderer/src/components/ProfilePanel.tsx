// Someone's profile: their display name and username, whether the user verified them, and the safety number to
// compare (read aloud in groups, or scanned as a QR code) with "Mark verified" / "Clear verification". The number
// is the same on both sides when no one is in the middle; it changes when their identity key changes.
import { useState } from 'react';
import { errorText } from '../bridge/index.ts';
import { digitGroups, digitRows } from '../lib/safety-number.ts';
import { useContacts } from '../state/contacts.ts';
import { useSession } from '../state/session.ts';
import { acceptIdentity, closeProfile, setVerified } from '../state/trust-actions.ts';
import { useTrust } from '../state/trust.ts';
import { Dialog } from './Dialog.tsx';
import { ErrorLine } from './ErrorLine.tsx';
import { QrCode } from './QrCode.tsx';

function SafetyDigits({ digits }: { digits: string }) {
  const rows = digitRows(digitGroups(digits));
  // read as one string by a screen reader (twelve groups), shown as three rows of four
  return (
    <div className="safety-digits" role="group" aria-label={`Safety number: ${digits}`} data-digits={digits}>
      {rows.map((row, r) => (
        <div className="safety-row" key={r} aria-hidden="true">
          {row.map((group, g) => <span key={g}>{group}</span>)}
        </div>
      ))}
    </div>
  );
}

export function ProfilePanel({ username }: { username: string }) {
  const contact = useContacts((s) => s.byUsername[username]);
  const me = useSession((s) => s.me);
  const safety = useTrust((s) => s.safety[username]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const isMe = me?.username === username;
  const displayName = isMe ? me?.displayName : contact?.displayName;
  const verified = safety && 'digits' in safety ? safety.verified : contact?.verified ?? false;
  const changed = contact && contact.identity !== 'accepted';

  const run = (action: () => Promise<void>) => async () => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
    } catch (failure) {
      setError(errorText(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog title={`Profile of ${username}`} onClose={closeProfile}>
      <div className="profile-card">
        <div className="avatar" aria-hidden="true">{(displayName || username).slice(0, 1).toUpperCase()}</div>
        <div>
          {displayName && <p className="profile-display">{displayName}</p>}
          <p className="profile-username">@{username}</p>
          {!isMe && (
            <p className="verified-state" data-verified={verified}>
              <span aria-hidden="true">{verified ? '✔' : '○'}</span> {verified ? 'Verified' : 'Not verified'}
            </p>
          )}
        </div>
      </div>
      {isMe ? <p>This is you. Compare safety numbers from the profile of the person you want to verify.</p> : (
        <section aria-labelledby="safety-title" className="safety">
          <h3 id="safety-title">Safety number</h3>
          {changed && (
            <p className="safety-changed" role="alert">
              {username}&apos;s safety number changed{contact.identity === 'changed-while-verified' ? ' since you verified it' : ''}. Compare the new one before you send.
            </p>
          )}
          {safety === undefined && <p role="status" className="waiting">Reading the safety number…</p>}
          {safety && 'error' in safety && <p className="error-line" role="alert">Could not read the safety number: {safety.error}</p>}
          {safety && 'digits' in safety && (
            <>
              <p className="hint">
                Compare these digits with {username}&apos;s screen, in person or on a call you trust, or scan the code. If they
                match, no one is in the middle of your conversation.
              </p>
              <div className="safety-body">
                <SafetyDigits digits={safety.digits} />
                <QrCode text={safety.qr} label={`QR code of your safety number with ${username}`} />
              </div>
            </>
          )}
          <ErrorLine error={error} />
          <div className="actions">
            {changed && contact.identity === 'changed' && (
              <button type="button" disabled={busy} onClick={run(() => acceptIdentity(username))}>Accept the new safety number</button>
            )}
            {verified
              ? <button type="button" disabled={busy} onClick={run(() => setVerified(username, false))}>Clear verification</button>
              : <button type="button" className="primary" disabled={busy || !safety || 'error' in safety} onClick={run(() => setVerified(username, true))}>Mark verified</button>}
          </div>
        </section>
      )}
    </Dialog>
  );
}
