// The web shell's notifications, through the browser's Notification API and only once the user granted it (a
// button in settings asks; a browser asks only after a click). The desktop app's main process notifies instead:
// its window is not granted the permission, so nothing is shown twice.
import { notificationFor } from '../../../core/api/attention.ts';
import { useConversations } from './conversations.ts';
import { useSession } from './session.ts';
import { useSettings } from './settings.ts';
import type { Message } from './types.ts';

export const notificationsSupported = (): boolean => typeof Notification !== 'undefined';

/**
 * The notification showing for each conversation (one each: a newer one replaces it under the same tag), with the
 * message it announced, so that one can be taken back when that message expires, burns or is deleted.
 */
const showing = new Map<string, { id: string; notification: Notification }>();

export function notifyArrival(message: Message): void {
  const settings = useSettings.getState().settings;
  if (!settings || !notificationsSupported() || Notification.permission !== 'granted') return;
  const watching = document.visibilityState === 'visible' && document.hasFocus() && useConversations.getState().selected === message.conversation;
  const shown = notificationFor(message, { settings, me: useSession.getState().me?.username, watching });
  if (!shown) return;
  // one notification per conversation (a newer one replaces it); the tag is the conversation's opaque id
  const notification = new Notification(shown.title, { body: shown.body, tag: message.conversation });
  showing.set(message.conversation, { id: message.id, notification });
  notification.onclick = () => {
    window.focus();
    notification.close();
  };
  notification.onclose = () => {
    if (showing.get(message.conversation)?.notification === notification) showing.delete(message.conversation);
  };
}

/** The message is gone (expired, burned, deleted): so is the notification that announced it. */
export function dismissNotification(conversation: string, id: string): void {
  const entry = showing.get(conversation);
  if (entry?.id !== id) return;
  entry.notification.close();
  showing.delete(conversation);
}

/** On lock: nothing of the profile stays on screen. */
export function dismissAllNotifications(): void {
  for (const { notification } of showing.values()) notification.close();
  showing.clear();
}

/** Asks the browser (after the user's click): the answer is the new permission. */
export async function askNotificationPermission(): Promise<NotificationPermission> {
  return notificationsSupported() ? Notification.requestPermission() : 'denied';
}
