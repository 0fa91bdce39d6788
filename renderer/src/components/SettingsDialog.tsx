// The profile's settings that this round's app shows: theme, receipts, typing indicators, link previews, original
// images, when to lock, and the name others see. Each change is saved at once (settings.set answers with the whole).
import { useState, type FormEvent } from 'react';
import { api, errorText } from '../bridge/index.ts';
import { changeSettings } from '../state/app.ts';
import { useSession } from '../state/session.ts';
import { useSettings, type Theme } from '../state/settings.ts';
import { Dialog } from './Dialog.tsx';
import { ErrorLine } from './ErrorLine.tsx';

const THEMES: { value: Theme; label: string }[] = [{ value: 'system', label: 'Same as the system' }, { value: 'light', label: 'Light' }, { value: 'dark', label: 'Dark' }];
const LOCK_AFTER: { value: number; label: string }[] = [
  { value: 0, label: 'Never' }, { value: 300, label: 'After 5 minutes' }, { value: 900, label: 'After 15 minutes' }, { value: 3600, label: 'After an hour' },
];

function DisplayNameForm() {
  const me = useSession((s) => s.me);
  const [name, setName] = useState(me?.displayName ?? '');
  const [state, setState] = useState<{ saved?: boolean; error?: string }>({});
  const save = async (event: FormEvent) => {
    event.preventDefault();
    try {
      await api().call('account.setDisplayName', { displayName: name });
      if (me) useSession.getState().set({ me: { ...me, displayName: name.trim() || undefined } });
      setState({ saved: true });
    } catch (failure) {
      setState({ error: errorText(failure) });
    }
  };
  return (
    <form className="field inline-form" onSubmit={save}>
      <label htmlFor="display-name">Display name (shown beside your username)</label>
      <div className="row">
        <input id="display-name" value={name} maxLength={64} onChange={(e) => setName(e.target.value)} />
        <button type="submit">Save</button>
      </div>
      <span role="status" className="hint">{state.saved ? 'Saved.' : ''}</span>
      <ErrorLine error={state.error} />
    </form>
  );
}

export function SettingsDialog({ onClose }: { onClose(): void }) {
  const settings = useSettings((s) => s.settings);
  if (!settings) return null;
  const change = (patch: Parameters<typeof changeSettings>[0]) => void changeSettings(patch).catch(() => {});
  return (
    <Dialog title="Settings" onClose={onClose}>
      <fieldset>
        <legend>Theme</legend>
        {THEMES.map((t) => (
          <div className="check" key={t.value}>
            <input type="radio" id={`theme-${t.value}`} name="theme" checked={settings.theme === t.value} onChange={() => change({ theme: t.value })} />
            <label htmlFor={`theme-${t.value}`}>{t.label}</label>
          </div>
        ))}
      </fieldset>
      <fieldset>
        <legend>Privacy</legend>
        <div className="check">
          <input type="checkbox" id="setting-receipts" checked={settings.receipts} onChange={(e) => change({ receipts: e.target.checked })} />
          <label htmlFor="setting-receipts">Read receipts in direct messages (off: you neither send nor see them)</label>
        </div>
        <div className="check">
          <input type="checkbox" id="setting-typing" checked={settings.typing} onChange={(e) => change({ typing: e.target.checked })} />
          <label htmlFor="setting-typing">Typing indicators (off: you neither send nor see them)</label>
        </div>
        <div className="check">
          <input type="checkbox" id="setting-link-previews" checked={settings.linkPreviews} onChange={(e) => change({ linkPreviews: e.target.checked })} />
          <label htmlFor="setting-link-previews">Link previews (your device fetches the page you link to, so that site sees your address; recipients never contact it)</label>
        </div>
        <div className="check">
          <input type="checkbox" id="setting-send-original" checked={settings.sendOriginalImages} onChange={(e) => change({ sendOriginalImages: e.target.checked })} />
          <label htmlFor="setting-send-original">Send original images (with their location, camera and time; off: removed before sending)</label>
        </div>
        <div className="field">
          <label htmlFor="setting-lock">Lock Wardroom</label>
          <select id="setting-lock" value={settings.lockAfterSeconds} onChange={(e) => change({ lockAfterSeconds: Number(e.target.value) })}>
            {[...LOCK_AFTER, ...(LOCK_AFTER.some((o) => o.value === settings.lockAfterSeconds) ? [] : [{ value: settings.lockAfterSeconds, label: `After ${settings.lockAfterSeconds} seconds` }])]
              .map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
          </select>
        </div>
      </fieldset>
      <DisplayNameForm />
      <div className="actions">
        <button type="button" className="primary" onClick={onClose}>Done</button>
      </div>
    </Dialog>
  );
}
