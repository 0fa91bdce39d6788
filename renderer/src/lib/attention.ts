// How the app asks for attention outside its window: the unread total in the document's title (the web shell's
// badge; a browser tab shows it) and what a notification may say. By default a notification names no sender and
// quotes nothing (the OS keeps notifications in its own history, out of the vault's reach); the content appears only
// when the notificationContent setting allows it. electron/notifications.ts applies the same rule in the desktop app.
import type { Message, Settings } from '../state/types.ts';

export const APP_TITLE = 'Wardroom';
export const NOTIFICATION_PREVIEW_MAX = 200;

export function titleWithUnread(unread: number): string {
  return unread > 0 ? `(${unread > 999 ? '999+' : unread}) ${APP_TITLE}` : APP_TITLE;
}

/** Control and invisible formatting characters are dropped: the OS draws the text, and it must be what was sent. */
const plain = (text: string) => text.replace(/[\p{Cc}\p{Cf}]+/gu, ' ').replace(/\s+/g, ' ').trim();

/** A conversation id's first letter is its kind (core/api/contract.ts, ConversationId): d and g are direct. */
const isDirect = (conversation: string) => conversation.startsWith('d:') || conversation.startsWith('g:');

export interface NotifyContext {
  settings: Pick<Settings, 'notifications' | 'notificationContent'>;
  me: string | undefined;
  /** the user is looking at this conversation right now: no notification */
  watching: boolean;
}

export function notificationFor(message: Message, context: NotifyContext): { title: string; body: string } | null {
  const { settings } = context;
  if (message.outgoing || message.notice || context.watching || settings.notifications === 'none') return null;
  const mentioned = context.me !== undefined && message.mentions.includes(context.me);
  if (settings.notifications === 'mentions' && !mentioned && !isDirect(message.conversation)) return null;
  if (!settings.notificationContent) return { title: APP_TITLE, body: mentioned ? 'You were mentioned in a new message' : 'New message' };
  const text = plain(message.text);
  return { title: plain(message.sender), body: text.length > NOTIFICATION_PREVIEW_MAX ? `${text.slice(0, NOTIFICATION_PREVIEW_MAX - 1)}…` : text };
}
