// The profile's settings: theme, receipts, typing indicators, link previews, original images, when to lock,
// notifications (and whether they show content), screen-capture protection, this account's devices, and the name
// others see. Each change is saved at once (settings.set answers with the whole).
import { useState, type FormEvent } from 'react';
import { api, errorText, inWebShell } from '../bridge/index.ts';
import { askNotificationPermission, notificationsSupported } from '../state/notify.ts';
import type { Settings } from '../state/types.ts';
import { DevicesSettings } from './DevicesSettings.tsx';
import { changeSettings } from '../state/app.ts';
import { useSession } from '../state/session.ts';
import { useSettings, type Theme } from '../state/settings.ts';
import { Dialog } from './Dialog.tsx';
import { ErrorLine } from './ErrorLine.tsx';
import { PolicySection, ShredNow } from './PolicySection.tsx';

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

const NOTIFY: { value: Settings['notifications']; label: string }[] = [
  { value: 'all', label: 'Every message' }, { value: 'mentions', label: 'Direct messages and mentions' }, { value: 'none', label: 'None' },
];

function NotificationSettings({ settings, change }: { settings: Settings; change(patch: Partial<Settings>): void }) {
  const [permission, setPermission] = useState(() => (notificationsSupported() ? Notification.permission : 'denied'));
  return (
    <fieldset>
      <legend>Notifications</legend>
      <div className="field">
        <label htmlFor="setting-notify">Notify me of</label>
        <select id="setting-notify" value={settings.notifications} onChange={(e) => change({ notifications: e.target.value as Settings['notifications'] })}>
          {NOTIFY.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
        </select>
      </div>
      <div className="check">
        <input type="checkbox" id="setting-notify-content" checked={settings.notificationContent} aria-describedby="setting-notify-content-hint"
          onChange={(e) => change({ notificationContent: e.target.checked })} />
        <label htmlFor="setting-notify-content">Show the sender and text in notifications</label>
      </div>
      <span id="setting-notify-content-hint" className="hint">Off, a notification says only “New message”: the system keeps notifications outside Wardroom&apos;s encrypted vault.</span>
      {inWebShell && permission === 'default' && (
        <div className="check">
          <button type="button" onClick={() => void askNotificationPermission().then(setPermission)}>Allow notifications in this browser</button>
        </div>
      )}
      {inWebShell && permission === 'denied' && <p className="hint">This browser blocks Wardroom&apos;s notifications (change it in the site&apos;s settings).</p>}
    </fieldset>
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
      <NotificationSettings settings={settings} change={change} />
      <fieldset>
        <legend>Screen</legend>
        <div className="check">
          <input type="checkbox" id="setting-capture" checked={settings.screenCaptureProtection} aria-describedby="setting-capture-hint"
            onChange={(e) => change({ screenCaptureProtection: e.target.checked })} />
          <label htmlFor="setting-capture">Screen-capture protection (screenshots and screen sharing show the window blank)</label>
        </div>
        <span id="setting-capture-hint" className="hint">
          {inWebShell ? 'Desktop app only: a browser tab cannot be protected, so here it takes effect when you use the desktop app.' : 'Where the operating system supports it.'}
        </span>
      </fieldset>
      <DevicesSettings />
      <DisplayNameForm />
      <PolicySection />
      <ShredNow />
      <div className="actions">
        <button type="button" className="primary" onClick={onClose}>Done</button>
      </div>
    </Dialog>
  );
}
