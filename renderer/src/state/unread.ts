// Where the messages unread at opening start: counted back from the newest, over the conversation's own list (the
// replies in threads are read in their panel, and notices are nobody's). Pure: the store and the jumps share it.
import type { Message } from './types.ts';

interface Span {
  ids: readonly string[];
  byId: Record<string, Message>;
}

/** The messages of `ids` that count as unread: others', in the conversation's own list. */
export const incoming = (span: Span, ids: readonly string[] = span.ids) => ids.filter((id) => {
  const message = span.byId[id]!;
  return !message.outgoing && !message.notice && !message.threadRoot;
});

/** The first of the `count` unread messages at the end of `span` (which reaches the newest); undefined when it holds fewer. */
export function firstUnreadIn(span: Span, count: number): string | undefined {
  if (count === 0) return undefined;
  const unread = incoming(span);
  return unread.length >= count ? unread[unread.length - count] : undefined;
}
