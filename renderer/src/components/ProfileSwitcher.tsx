// Several profiles side by side (other organisations, other accounts): each open one keeps running in the app host
// and receiving; this window shows one at a time. Switch to another, unlock a locked one, add one (join or link), or
// lock them all at once.
import { useEffect } from 'react';
import { api } from '../bridge/index.ts';
import { addProfile, lockAll, switchProfile } from '../state/app.ts';
import { useSession } from '../state/session.ts';
import type { Profile } from '../state/types.ts';
import { Dialog } from './Dialog.tsx';

const STATE: Record<Profile['state'], string> = { open: 'Open', locked: 'Locked', unlocking: 'Unlocking…', linking: 'Waiting for approval' };

export function ProfileSwitcher({ onClose }: { onClose(): void }) {
  const profiles = useSession((s) => s.profiles);
  const current = useSession((s) => s.current);
  useEffect(() => {
    void api().call('profiles.list', {}).then((list) => useSession.getState().set({ profiles: list.profiles }), () => {});
  }, []);
  const go = (name: string) => {
    onClose();
    void switchProfile(name).catch(() => {}); // a failure is a notice
  };
  return (
    <Dialog title="Profiles" onClose={onClose}>
      <ul className="profile-list" aria-label="Profiles on this computer">
        {profiles.map((p) => {
          // the same username in two organisations: the profile's own name tells them apart
          const same = profiles.filter((q) => (q.username ?? q.name) === (p.username ?? p.name)).length > 1;
          const who = same && p.username && p.username !== p.name ? `${p.username} (${p.name})` : p.username ?? p.name;
          const showing = p.name === current;
          return (
            <li key={p.name} className="profile-entry" aria-current={showing ? 'true' : undefined}>
              <div className="avatar" aria-hidden="true">{who.slice(0, 1).toUpperCase()}</div>
              <div className="profile-entry-text">
                <span className="profile-entry-name">{who}</span>
                <span className="hint">{showing ? 'Showing now' : STATE[p.state]}</span>
              </div>
              {!showing && p.state !== 'linking' && (
                <button type="button" onClick={() => go(p.name)}>{p.state === 'open' ? `Switch to ${who}` : `Unlock ${who}`}</button>
              )}
            </li>
          );
        })}
      </ul>
      <div className="actions">
        <button type="button" onClick={() => { onClose(); void lockAll().catch(() => {}); }}>Lock all profiles</button>
        <button type="button" className="primary" onClick={() => { onClose(); addProfile(); }}>Add another profile</button>
      </div>
    </Dialog>
  );
}
