// What a desktop notification says. By default it names no sender and quotes nothing: the OS keeps notifications
// in its own history, lock screen and sync, out of the vault's reach. Content appears only when the user turned
// notificationContent on; the level (all, mentions and direct messages, none) decides whether there is one at all.
import type { MessageViewT, SettingsT } from '../core/api/contract.ts';

export interface NotificationContext {
  settings: Pick<SettingsT, 'notifications' | 'notificationContent'>;
  /** this profile's username, for mentions */
  me: string;
  /** the user is looking at the window: no notification */
  focused: boolean;
}

export const PREVIEW_MAX = 200;

/** Control and invisible formatting characters are dropped: the OS draws the text, and it must be what was sent. */
const plain = (text: string) => text.replace(/[\p{Cc}\p{Cf}]+/gu, ' ').replace(/\s+/g, ' ').trim();

/** A conversation id's first letter is its kind (core/api/contract.ts, ConversationId): d and g are direct. */
const isDirect = (conversation: string) => conversation.startsWith('d:') || conversation.startsWith('g:');

export function notificationFor(message: MessageViewT, context: NotificationContext): { title: string; body: string } | null {
  const { settings } = context;
  if (message.outgoing || context.focused || settings.notifications === 'none') return null;
  if (message.notice === 'timer-changed' || message.notice === 'policy-clamped') return null; // the history says it
  const mentioned = message.mentions.includes(context.me);
  if (settings.notifications === 'mentions' && !mentioned && !isDirect(message.conversation)) return null;
  // a disappearing message's text never goes where its deadline cannot reach (the OS notification history)
  if (!settings.notificationContent || message.expiresAt !== undefined || message.burnAfterReadSeconds !== undefined) return { title: 'Wardroom', body: mentioned ? 'You were mentioned in a new message' : 'New message' };
  const text = plain(message.text);
  return { title: plain(message.sender), body: text.length > PREVIEW_MAX ? `${text.slice(0, PREVIEW_MAX - 1)}…` : text };
}
