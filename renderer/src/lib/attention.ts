// How the app asks for attention outside its window: the unread total in the document's title (the web shell's
// badge; a browser tab shows it). What a notification may say is core/api/attention.ts, shared with the desktop app.
import { APP_TITLE } from '../../../core/api/attention.ts';

export function titleWithUnread(unread: number): string {
  return unread > 0 ? `(${unread > 999 ? '999+' : unread}) ${APP_TITLE}` : APP_TITLE;
}
