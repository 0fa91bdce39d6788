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
  loading: 'latest' | 'older' | null;
  error?: string;
}

interface Page {
  messages: Message[];
  hasOlder: boolean;
  hasNewer: boolean;
}

interface MessagesState {
  threads: Record<string, Thread>;
  /** what the user typed and has not sent, per conversation (memory only; gone on lock) */
  drafts: Record<string, string>;
  setDraft(conversation: string, text: string): void;
  loading(conversation: string, what: 'latest' | 'older'): void;
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
      const { [id]: _gone, ...byId } = thread.byId;
      return { threads: { ...s.threads, [conversation]: { ...thread, byId, ids: thread.ids.filter((x) => x !== id) } } };
    }),
    clear: () => set({ threads: {}, drafts: {} }),
  };
});
