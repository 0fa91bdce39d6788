// The history of each conversation the user opened, a window of pages oldest first: the newest page first, then
// older pages as the list scrolls up, newer ones as it scrolls back down. The window is bounded (history-window.ts):
// it keeps the part around where the user reads and drops the far end. Live events add, change and remove messages
// in the windows that hold them.
import { create } from 'zustand';
import { bounded, joined } from './history-window.ts';
import { firstUnreadIn } from './unread.ts';
import type { Message } from './types.ts';

export interface Thread {
  /** oldest first */
  ids: string[];
  byId: Record<string, Message>;
  hasOlder: boolean;
  /** false while the window holds the newest message: live messages are appended only then */
  hasNewer: boolean;
  loading: 'latest' | 'older' | 'newer' | null;
  error?: string;
  /** live messages that arrived while a page reaching the newest was being read: merged when it comes */
  arriving?: Message[];
}

interface Page {
  messages: Message[];
  hasOlder: boolean;
  hasNewer: boolean;
}

/** A message that arrived and could not be decrypted: shown in its conversation's history as such, never hidden. */
export interface Undecryptable {
  id: string;
  at: string;
  sender?: string;
  reason: string;
}

interface MessagesState {
  threads: Record<string, Thread>;
  /** per conversation, what arrived here undecryptable while the profile was open (the engine stores none) */
  undecryptable: Record<string, Undecryptable[]>;
  /** the message a jump (a search result, a quote, the first unread) asked the list to show and highlight */
  focus?: { conversation: string; id: string; nonce: number };
  /** how many were unread when the conversation was opened: the list marks where they start */
  unreadAtOpen: Record<string, number>;
  /**
   * per conversation, the first of those once paging back found it while the window still reached the newest (the
   * window may drop the newest end on the way back, and the count starts there)
   */
  unreadFrom: Record<string, string>;
  /** per conversation, true once the first of those has been on screen: the jump to it is no longer offered */
  firstUnreadSeen: Record<string, boolean>;
  sawFirstUnread(conversation: string): void;
  /**
   * per conversation, false while its list is scrolled away from the newest message: a live message that makes the
   * window too long then pushes out the newest (the user is reading further back), otherwise the oldest
   */
  atNewest: Record<string, boolean>;
  setAtNewest(conversation: string, atNewest: boolean): void;
  /** per conversation, counts the asks to show the newest message (a send): each one scrolls the list to the end */
  toNewest: Record<string, number>;
  showNewest(conversation: string): void;
  noteUndecryptable(conversation: string, entry: Undecryptable): void;
  focusOn(conversation: string, id: string): void;
  setUnreadAtOpen(conversation: string, count: number): void;
  appendNewer(conversation: string, page: Page): void;
  /** what the user typed and has not sent, per conversation (memory only; gone on lock) */
  drafts: Record<string, string>;
  setDraft(conversation: string, text: string): void;
  loading(conversation: string, what: 'latest' | 'older' | 'newer'): void;
  failed(conversation: string, error: string): void;
  setLatest(conversation: string, page: Page): void;
  prependOlder(conversation: string, page: Page): void;
  /** a new message (received, or sent here): put into a window that ends at the newest */
  add(message: Message): void;
  update(message: Message): void;
  remove(conversation: string, id: string): void;
  clear(): void;
}

const emptyThread = (): Thread => ({ ids: [], byId: {}, hasOlder: false, hasNewer: false, loading: null });

/** Keeps ids in time order when a message arrives out of order (a late delivery, another device's send). */
function insertSorted(ids: string[], byId: Record<string, Message>, message: Message): string[] {
  let at = ids.length;
  while (at > 0 && byId[ids[at - 1]!]!.sentAt > message.sentAt) at -= 1;
  return [...ids.slice(0, at), message.id, ...ids.slice(at)];
}

/** `span` with the live messages that arrived while its page was read, each once and in time order. */
function withArrived(span: { ids: string[]; byId: Record<string, Message> }, arrived: readonly Message[]) {
  let { ids, byId } = span;
  for (const message of arrived) {
    if (byId[message.id]) continue;
    byId = { ...byId, [message.id]: message };
    ids = insertSorted(ids, byId, message);
  }
  return { ids, byId };
}

const reachesNewest = (loading: Thread['loading']) => loading === 'latest' || loading === 'newer';

export const useMessages = create<MessagesState>()((set, get) => {
  const change = (conversation: string, edit: (thread: Thread) => Partial<Thread>) => set((s) => {
    const thread = s.threads[conversation] ?? emptyThread();
    return { threads: { ...s.threads, [conversation]: { ...thread, ...edit(thread) } } };
  });
  return {
    threads: {},
    drafts: {},
    undecryptable: {},
    unreadAtOpen: {},
    firstUnreadSeen: {},
    unreadFrom: {},
    atNewest: {},
    toNewest: {},
    showNewest: (conversation) => set((s) => ({ atNewest: { ...s.atNewest, [conversation]: true }, toNewest: { ...s.toNewest, [conversation]: (s.toNewest[conversation] ?? 0) + 1 } })),
    // called on every scroll event: a store change (and every subscriber's selector) only when it changes
    setAtNewest: (conversation, atNewest) => {
      if (get().atNewest[conversation] !== atNewest) set((s) => ({ atNewest: { ...s.atNewest, [conversation]: atNewest } }));
    },
    noteUndecryptable: (conversation, entry) => set((s) => ({ undecryptable: { ...s.undecryptable, [conversation]: [...(s.undecryptable[conversation] ?? []), entry] } })),
    focusOn: (conversation, id) => set((s) => ({ focus: { conversation, id, nonce: (s.focus?.nonce ?? 0) + 1 } })),
    setUnreadAtOpen: (conversation, count) => set((s) => {
      const { [conversation]: _found, ...unreadFrom } = s.unreadFrom;
      return { unreadAtOpen: { ...s.unreadAtOpen, [conversation]: count }, firstUnreadSeen: { ...s.firstUnreadSeen, [conversation]: false }, unreadFrom };
    }),
    sawFirstUnread: (conversation) => {
      if (!get().firstUnreadSeen[conversation]) set((s) => ({ firstUnreadSeen: { ...s.firstUnreadSeen, [conversation]: true } }));
    },
    appendNewer: (conversation, page) => change(conversation, (thread) => {
      const span = joined(thread, page.messages, 'after');
      const window = bounded(page.hasNewer ? span : withArrived(span, thread.arriving ?? []), 'oldest');
      return { ids: window.ids, byId: window.byId, hasOlder: thread.hasOlder || window.cut, hasNewer: page.hasNewer, loading: null, arriving: undefined };
    }),
    setDraft: (conversation, text) => set((s) => ({ drafts: { ...s.drafts, [conversation]: text } })),
    loading: (conversation, what) => change(conversation, () => ({ loading: what, error: undefined })),
    failed: (conversation, error) => change(conversation, () => ({ loading: null, error })),
    setLatest: (conversation, page) => change(conversation, (thread) => {
      const span = joined({ ids: [], byId: {} }, page.messages, 'after');
      const window = bounded(page.hasNewer ? span : withArrived(span, thread.arriving ?? []), 'oldest');
      return { ids: window.ids, byId: window.byId, hasOlder: page.hasOlder || window.cut, hasNewer: page.hasNewer, loading: null, arriving: undefined };
    }),
    prependOlder: (conversation, page) => {
      const thread = get().threads[conversation] ?? emptyThread();
      const span = joined(thread, page.messages, 'before');
      // counted back from the newest while the span still reaches it (bounding may drop it just below)
      const from = get().unreadFrom[conversation] ?? (thread.hasNewer ? undefined : firstUnreadIn(span, get().unreadAtOpen[conversation] ?? 0));
      if (from) set((s) => ({ unreadFrom: { ...s.unreadFrom, [conversation]: from } }));
      const window = bounded(span, 'newest');
      change(conversation, () => ({ ids: window.ids, byId: window.byId, hasOlder: page.hasOlder, hasNewer: thread.hasNewer || window.cut, loading: null }));
    },
    add: (message) => set((s) => {
      const thread = s.threads[message.conversation];
      if (!thread) return {};
      const put = (next: Partial<Thread>) => ({ threads: { ...s.threads, [message.conversation]: { ...thread, ...next } } });
      if (thread.byId[message.id]) return put({ byId: { ...thread.byId, [message.id]: message } });
      // a page that will reach the newest is on its way: it may have been read before this arrived
      if (reachesNewest(thread.loading)) return put({ arriving: [...(thread.arriving ?? []), message] });
      if (thread.hasNewer) return {};
      const byId = { ...thread.byId, [message.id]: message };
      const atNewest = s.atNewest[message.conversation] !== false;
      const window = bounded({ ids: insertSorted(thread.ids, byId, message), byId }, atNewest ? 'oldest' : 'newest');
      return put({ ids: window.ids, byId: window.byId, ...(window.cut ? (atNewest ? { hasOlder: true } : { hasNewer: true }) : {}) });
    }),
    update: (message) => set((s) => {
      const thread = s.threads[message.conversation];
      if (!thread?.byId[message.id]) return {};
      return { threads: { ...s.threads, [message.conversation]: { ...thread, byId: { ...thread.byId, [message.id]: message } } } };
    }),
    remove: (conversation, id) => set((s) => {
      const thread = s.threads[conversation];
      if (!thread?.byId[id]) return {};
      const { [id]: gone, ...byId } = thread.byId;
      // a reply leaving its thread: the root's count follows (the engine sends no update for a removal)
      const root = gone!.threadRoot ? byId[gone!.threadRoot] : undefined;
      if (root?.replyCount) byId[root.id] = { ...root, ...(root.replyCount > 1 ? { replyCount: root.replyCount - 1 } : { replyCount: undefined }) };
      return { threads: { ...s.threads, [conversation]: { ...thread, byId, ids: thread.ids.filter((x) => x !== id) } } };
    }),
    clear: () => set({ threads: {}, drafts: {}, undecryptable: {}, focus: undefined, unreadAtOpen: {}, firstUnreadSeen: {}, unreadFrom: {}, atNewest: {}, toNewest: {} }),
  };
});

/**
 * The first of the messages that were unread when the conversation was opened: where paging back found it, or
 * counted back from the newest; undefined when the window does not hold it, or does not reach the newest (its end is
 * not where the count starts).
 */
export function firstUnread(conversation: string): string | undefined {
  const { threads, unreadAtOpen, unreadFrom } = useMessages.getState();
  const thread = threads[conversation];
  const found = unreadFrom[conversation];
  if (found) return thread?.byId[found] ? found : undefined;
  if (!thread || thread.hasNewer) return undefined;
  return firstUnreadIn(thread, unreadAtOpen[conversation] ?? 0);
}
