// Onboarding: join an organisation with an invite link (username, passphrase with a strength hint, the passphrase
// again), or link this computer to an account that already exists (the same, then a code shown here until a device
// already signed in approves it). The invite of the relay this app started for itself, or one from a deep link, is
// filled in.
import { useState, type FormEvent } from 'react';
import { errorText } from '../bridge/index.ts';
import { CopyField } from '../components/CopyField.tsx';
import { ErrorLine } from '../components/ErrorLine.tsx';
import { PassphraseField } from '../components/PassphraseField.tsx';
import { LINK_MAX, USERNAME_MAX, USERNAME_PATTERN } from '../lib/limits.ts';
import { cancelLink, join, linkDevice } from '../state/app.ts';
import { useDevices } from '../state/devices.ts';
import { useSession } from '../state/session.ts';

type Mode = 'join' | 'link';

function LinkWaiting() {
  const code = useDevices((s) => s.linking?.code);
  return (
    <section className="link-waiting" aria-labelledby="link-code-title">
      <h2 id="link-code-title">Approve this computer from your other device</h2>
      {code ? (
        <>
          <p>On a device already signed in to your account, open <strong>Settings</strong>, then <strong>Devices</strong>, and enter this code:</p>
          <CopyField label="Link code" value={code} multiline />
        </>
      ) : null}
      <p className="waiting" role="status">{code ? 'Waiting for your other device to approve…' : 'Asking the relay for a link code…'}</p>
      <div className="actions">
        <button type="button" onClick={() => void cancelLink()}>Cancel</button>
      </div>
    </section>
  );
}

export function JoinScreen() {
  const welcomeInvite = useSession((s) => s.welcomeInvite);
  const pendingJoin = useSession((s) => s.pendingJoin);
  const hasProfiles = useSession((s) => s.profiles.length > 0);
  const linking = useDevices((s) => s.linking !== undefined);
  const offered = pendingJoin ?? welcomeInvite;
  const [mode, setMode] = useState<Mode>('join');
  const [link, setLink] = useState(offered ?? '');
  const [username, setUsername] = useState('');
  const [passphrase, setPassphrase] = useState('');
  const [again, setAgain] = useState('');
  const [kit, setKit] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (passphrase !== again) return setError('The two passphrases differ.');
    setBusy(true);
    setError(undefined);
    try {
      if (mode === 'join') await join(link, username, passphrase);
      else await linkDevice(link, username, passphrase, kit || undefined);
    } catch (failure) {
      setError(errorText(failure));
      setBusy(false);
    }
  };

  const hint = pendingJoin && link === pendingJoin ? 'From the link you opened.'
    : welcomeInvite && link === welcomeInvite ? 'The first admin invite of the relay this app started on this computer.'
      : mode === 'join' ? 'The link an admin of your organisation sent you (wardroom://join/…).' : 'Any invite link of your organisation (wardroom://join/…): it says where the relay is.';
  const title = mode === 'join' ? 'Join your organisation' : 'Link to an existing account';

  return (
    <main className="onboarding">
      <form className="card" onSubmit={submit} aria-labelledby="join-title">
        <h1 id="join-title">{title}</h1>
        <p className="lead">
          {mode === 'join'
            ? 'Wardroom keeps your messages end-to-end encrypted: the relay only ever sees ciphertext.'
            : 'Use the account you already have on another computer: that device approves this one, which makes keys of its own.'}
        </p>
        {linking ? <LinkWaiting /> : (
          <>
            <div className="field">
              <label htmlFor="join-link">Invite link</label>
              <textarea id="join-link" value={link} rows={3} maxLength={LINK_MAX} required spellCheck={false} aria-describedby="join-link-hint" onChange={(e) => setLink(e.target.value)} />
              <span id="join-link-hint" className="hint">{hint}</span>
            </div>
            <div className="field">
              <label htmlFor="join-username">Username</label>
              <input id="join-username" value={username} autoComplete="username" required pattern={USERNAME_PATTERN} maxLength={USERNAME_MAX} spellCheck={false}
                aria-describedby="join-username-hint" onChange={(e) => setUsername(e.target.value.toLowerCase())} />
              <span id="join-username-hint" className="hint">{mode === 'join' ? '2-32 characters: a-z, 0-9, dot, dash, underscore.' : 'The username of your existing account.'}</span>
            </div>
            <PassphraseField value={passphrase} onChange={setPassphrase} />
            <div className="field">
              <label htmlFor="join-again">Passphrase again</label>
              <input id="join-again" type="password" autoComplete="new-password" value={again} required onChange={(e) => setAgain(e.target.value)} />
            </div>
            {mode === 'link' && (
              <div className="field">
                <label htmlFor="link-kit">Recovery kit (optional)</label>
                <textarea id="link-kit" value={kit} rows={2} maxLength={LINK_MAX} spellCheck={false} aria-describedby="link-kit-hint" onChange={(e) => setKit(e.target.value)} />
                <span id="link-kit-hint" className="hint">With your recovery kit this computer is linked at once, without another device.</span>
              </div>
            )}
            <ErrorLine error={error} />
            <div className="actions">
              <button type="button" className="mode-switch" onClick={() => { setMode(mode === 'join' ? 'link' : 'join'); setError(undefined); }}>
                {mode === 'join' ? 'Link to an existing account' : 'Join with an invite instead'}
              </button>
              {hasProfiles && <button type="button" onClick={() => useSession.getState().set({ joining: false, pendingJoin: undefined })}>Back</button>}
              <button type="submit" className="primary" disabled={busy}>
                {mode === 'join' ? (busy ? 'Joining… (creating your keys)' : 'Join') : (busy ? 'Linking…' : 'Link this computer')}
              </button>
            </div>
          </>
        )}
      </form>
    </main>
  );
}
