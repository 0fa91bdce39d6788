// The web shell's notifications, through the browser's Notification API and only once the user granted it (a
// button in settings asks; a browser asks only after a click). The desktop app's main process notifies instead:
// its window is not granted the permission, so nothing is shown twice.
import { notificationFor } from '../../../core/api/attention.ts';
import { useConversations } from './conversations.ts';
import { useSession } from './session.ts';
import { useSettings } from './settings.ts';
import type { Message } from './types.ts';

export const notificationsSupported = (): boolean => typeof Notification !== 'undefined';

export function notifyArrival(message: Message): void {
  const settings = useSettings.getState().settings;
  if (!settings || !notificationsSupported() || Notification.permission !== 'granted') return;
  const watching = document.visibilityState === 'visible' && document.hasFocus() && useConversations.getState().selected === message.conversation;
  const shown = notificationFor(message, { settings, me: useSession.getState().me?.username, watching });
  if (!shown) return;
  // one notification per conversation (a newer one replaces it); the tag is the conversation's opaque id
  const notification = new Notification(shown.title, { body: shown.body, tag: message.conversation });
  notification.onclick = () => {
    window.focus();
    notification.close();
  };
}

/** Asks the browser (after the user's click): the answer is the new permission. */
export async function askNotificationPermission(): Promise<NotificationPermission> {
  return notificationsSupported() ? Notification.requestPermission() : 'denied';
}
