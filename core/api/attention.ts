// What a notification may say, one rule for both shells (the desktop app's main process and the web shell's page;
// the renderer may import this module's values: it is pure and imports only types). By default a notification names
// no sender and quotes nothing: the OS keeps notifications in its own history, lock screen and sync, out of the
// vault's reach. Content appears only when the user turned notificationContent on, and never for a disappearing
// message (the OS history is where its deadline cannot reach). The level (all, mentions and direct messages, none)
// decides whether there is one at all; the history's notices (joins, timers, key changes) never notify.
import type { MessageViewT, SettingsT } from './contract.ts';

export const APP_TITLE = 'Wardroom';
export const NOTIFICATION_PREVIEW_MAX = 200;

export interface NotificationContext {
  settings: Pick<SettingsT, 'notifications' | 'notificationContent'>;
  /** this profile's username, for mentions */
  me: string | undefined;
  /** the user is looking at it already (the desktop window is focused; the web shell shows that conversation) */
  watching: boolean;
}

type NotifiedMessage = Pick<MessageViewT, 'outgoing' | 'notice' | 'mentions' | 'conversation' | 'expiresAt' | 'burnAfterReadSeconds' | 'sender' | 'text'>;

/** Control and invisible formatting characters are dropped: the OS draws the text, and it must be what was sent. */
const plain = (text: string) => text.replace(/[\p{Cc}\p{Cf}]+/gu, ' ').replace(/\s+/g, ' ').trim();

/** A conversation id's first letter is its kind (contract.ts, ConversationId): d and g are direct. */
const isDirect = (conversation: string) => conversation.startsWith('d:') || conversation.startsWith('g:');

export function notificationFor(message: NotifiedMessage, context: NotificationContext): { title: string; body: string } | null {
  const { settings } = context;
  if (message.outgoing || message.notice || context.watching || settings.notifications === 'none') return null;
  const mentioned = context.me !== undefined && message.mentions.includes(context.me);
  if (settings.notifications === 'mentions' && !mentioned && !isDirect(message.conversation)) return null;
  const disappearing = message.expiresAt !== undefined || message.burnAfterReadSeconds !== undefined;
  if (!settings.notificationContent || disappearing) return { title: APP_TITLE, body: mentioned ? 'You were mentioned in a new message' : 'New message' };
  const text = plain(message.text);
  return { title: plain(message.sender), body: text.length > NOTIFICATION_PREVIEW_MAX ? `${text.slice(0, NOTIFICATION_PREVIEW_MAX - 1)}…` : text };
}
