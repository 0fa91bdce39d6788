// The history of each conversation the user opened, a window of pages oldest first: the newest page first, then
// older pages as the list scrolls up. Live events add, change and remove messages in the windows that hold them.
import { create } from 'zustand';
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
  /** a new message (received, or sent here): appended to a window that ends at the newest */
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

export const useMessages = create<MessagesState>()((set) => {
  const change = (conversation: string, edit: (thread: Thread) => Partial<Thread>) => set((s) => {
    const thread = s.threads[conversation] ?? emptyThread();
    return { threads: { ...s.threads, [conversation]: { ...thread, ...edit(thread) } } };
  });
  return {
    threads: {},
    drafts: {},
    undecryptable: {},
    unreadAtOpen: {},
    noteUndecryptable: (conversation, entry) => set((s) => ({ undecryptable: { ...s.undecryptable, [conversation]: [...(s.undecryptable[conversation] ?? []), entry] } })),
    focusOn: (conversation, id) => set((s) => ({ focus: { conversation, id, nonce: (s.focus?.nonce ?? 0) + 1 } })),
    setUnreadAtOpen: (conversation, count) => set((s) => ({ unreadAtOpen: { ...s.unreadAtOpen, [conversation]: count } })),
    appendNewer: (conversation, page) => change(conversation, (thread) => {
      const fresh = page.messages.filter((m) => !thread.byId[m.id]);
      return {
        ids: [...thread.ids, ...fresh.map((m) => m.id)],
        byId: { ...thread.byId, ...Object.fromEntries(fresh.map((m) => [m.id, m])) },
        hasNewer: page.hasNewer,
        loading: null,
      };
    }),
    setDraft: (conversation, text) => set((s) => ({ drafts: { ...s.drafts, [conversation]: text } })),
    loading: (conversation, what) => change(conversation, () => ({ loading: what, error: undefined })),
    failed: (conversation, error) => change(conversation, () => ({ loading: null, error })),
    setLatest: (conversation, page) => change(conversation, () => ({
      ids: page.messages.map((m) => m.id),
      byId: Object.fromEntries(page.messages.map((m) => [m.id, m])),
      hasOlder: page.hasOlder,
      hasNewer: page.hasNewer,
      loading: null,
    })),
    prependOlder: (conversation, page) => change(conversation, (thread) => {
      const fresh = page.messages.filter((m) => !thread.byId[m.id]);
      return {
        ids: [...fresh.map((m) => m.id), ...thread.ids],
        byId: { ...thread.byId, ...Object.fromEntries(fresh.map((m) => [m.id, m])) },
        hasOlder: page.hasOlder,
        loading: null,
      };
    }),
    add: (message) => set((s) => {
      const thread = s.threads[message.conversation];
      if (!thread || thread.hasNewer) return {};
      if (thread.byId[message.id]) return { threads: { ...s.threads, [message.conversation]: { ...thread, byId: { ...thread.byId, [message.id]: message } } } };
      const byId = { ...thread.byId, [message.id]: message };
      return { threads: { ...s.threads, [message.conversation]: { ...thread, byId, ids: insertSorted(thread.ids, byId, message) } } };
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
    clear: () => set({ threads: {}, drafts: {}, undecryptable: {}, focus: undefined, unreadAtOpen: {} }),
  };
});
