// Joining an organisation with an invite link: username, passphrase (with a strength hint), and the passphrase again.
// The invite of the relay this app started for itself is filled in.
import { useState, type FormEvent } from 'react';
import { errorText } from '../bridge/index.ts';
import { ErrorLine } from '../components/ErrorLine.tsx';
import { PassphraseField } from '../components/PassphraseField.tsx';
import { LINK_MAX, USERNAME_MAX, USERNAME_PATTERN } from '../lib/limits.ts';
import { join } from '../state/app.ts';
import { useSession } from '../state/session.ts';

export function JoinScreen() {
  const welcomeInvite = useSession((s) => s.welcomeInvite);
  const hasProfiles = useSession((s) => s.profiles.length > 0);
  const [link, setLink] = useState(welcomeInvite ?? '');
  const [username, setUsername] = useState('');
  const [passphrase, setPassphrase] = useState('');
  const [again, setAgain] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (passphrase !== again) return setError('The two passphrases differ.');
    setBusy(true);
    setError(undefined);
    try {
      await join(link, username, passphrase);
    } catch (failure) {
      setError(errorText(failure));
      setBusy(false);
    }
  };

  return (
    <main className="onboarding">
      <form className="card" onSubmit={submit} aria-labelledby="join-title">
        <h1 id="join-title">Join your organisation</h1>
        <p className="lead">Wardroom keeps your messages end-to-end encrypted: the relay only ever sees ciphertext.</p>
        <div className="field">
          <label htmlFor="join-link">Invite link</label>
          <textarea id="join-link" value={link} rows={3} maxLength={LINK_MAX} required spellCheck={false} aria-describedby="join-link-hint" onChange={(e) => setLink(e.target.value)} />
          <span id="join-link-hint" className="hint">{welcomeInvite && link === welcomeInvite ? 'The first admin invite of the relay this app started on this computer.' : 'The link an admin of your organisation sent you (wardroom://join/…).'}</span>
        </div>
        <div className="field">
          <label htmlFor="join-username">Username</label>
          <input id="join-username" value={username} autoComplete="username" required pattern={USERNAME_PATTERN} maxLength={USERNAME_MAX} spellCheck={false}
            aria-describedby="join-username-hint" onChange={(e) => setUsername(e.target.value.toLowerCase())} />
          <span id="join-username-hint" className="hint">2-32 characters: a-z, 0-9, dot, dash, underscore.</span>
        </div>
        <PassphraseField value={passphrase} onChange={setPassphrase} />
        <div className="field">
          <label htmlFor="join-again">Passphrase again</label>
          <input id="join-again" type="password" autoComplete="new-password" value={again} required onChange={(e) => setAgain(e.target.value)} />
        </div>
        <ErrorLine error={error} />
        <div className="actions">
          {hasProfiles && <button type="button" onClick={() => useSession.getState().set({ joining: false })}>Back</button>}
          <button type="submit" className="primary" disabled={busy}>{busy ? 'Joining… (creating your keys)' : 'Join'}</button>
        </div>
      </form>
    </main>
  );
}
