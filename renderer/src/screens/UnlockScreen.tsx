// The locked app: which profile, its passphrase, and why it locked. Joining another organisation starts from here.
import { useState, type FormEvent } from 'react';
import { errorCode, errorText } from '../bridge/index.ts';
import { ErrorLine } from '../components/ErrorLine.tsx';
import { unlock } from '../state/app.ts';
import { useSession, type LockReason } from '../state/session.ts';

const WHY: Record<LockReason, string> = {
  requested: 'You locked Wardroom.',
  idle: 'Wardroom locked itself after a while without activity.',
  system: 'Wardroom locked when the computer locked or went to sleep.',
  failed: 'Opening the profile failed.',
};

export function UnlockScreen() {
  const profiles = useSession((s) => s.profiles);
  const current = useSession((s) => s.current);
  const reason = useSession((s) => s.lockReason);
  const failure = useSession((s) => s.failure);
  const [profile, setProfile] = useState(current ?? profiles[0]?.name ?? '');
  const [passphrase, setPassphrase] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(failure);
  const chosen = profiles.find((p) => p.name === profile);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await unlock(profile, passphrase);
    } catch (failed) {
      setError(errorCode(failed) === 'WRONG_PASSPHRASE' ? 'That passphrase does not unlock this profile.' : errorText(failed));
      setPassphrase('');
      setBusy(false);
    }
  };

  return (
    <main className="onboarding">
      <form className="card" onSubmit={submit} aria-labelledby="unlock-title">
        <svg className="lock-mark" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
          <rect x="4" y="10" width="16" height="11" rx="2" />
          <path d="M8 10V7a4 4 0 0 1 8 0v3" />
        </svg>
        <h1 id="unlock-title">Wardroom is locked</h1>
        <p className="lead">{reason ? WHY[reason] : 'Your messages stay encrypted on this computer until you unlock.'}</p>
        {profiles.length > 1 ? (
          <div className="field">
            <label htmlFor="unlock-profile">Profile</label>
            <select id="unlock-profile" value={profile} onChange={(e) => setProfile(e.target.value)}>
              {profiles.map((p) => <option key={p.name} value={p.name}>{p.username ? `${p.username} (${p.name})` : p.name}</option>)}
            </select>
          </div>
        ) : (
          <p className="profile-line">Profile <strong>{chosen?.username ?? profile}</strong></p>
        )}
        <div className="field">
          <label htmlFor="unlock-passphrase">Passphrase</label>
          <input id="unlock-passphrase" type="password" autoComplete="current-password" value={passphrase} required autoFocus onChange={(e) => setPassphrase(e.target.value)} />
        </div>
        <ErrorLine error={error} />
        <div className="actions">
          <button type="button" onClick={() => useSession.getState().set({ joining: true })}>Join another organisation</button>
          <button type="submit" className="primary" disabled={busy || !profile}>{busy ? 'Unlocking…' : 'Unlock'}</button>
        </div>
      </form>
    </main>
  );
}
