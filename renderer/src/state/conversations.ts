// Channels, direct and group messages of the open profile, with unread and mention counts. A snapshot comes from
// conversations.list with the engine's event number it was read at; engine events after that number update it. The
// counts are the engine's: it sends the view of a conversation after every arrival there, read once the messages
// were stored (conversation.updated). Adding events up here would count a message twice whenever a snapshot read
// between its commit and its event already held it (or drop it when a snapshot answered late over a newer view).
import { create } from 'zustand';
import type { Conversation, Message } from './types.ts';

interface ConversationsState {
  byId: Record<string, Conversation>;
  /** the event number the snapshot was read at: events at or before it are already in it */
  seq: number;
  /** per conversation, the event number of the engine's view of it applied last: newer than a snapshot, it stays */
  viewSeq: Record<string, number>;
  loaded: boolean;
  selected?: string;
  setAll(conversations: Conversation[], seq: number): void;
  /** `seq`: the event that carried the view (none for a command's answer) */
  upsert(conversation: Conversation, seq?: number): void;
  select(id: string | undefined): void;
  /**
   * a message arrived or was sent: the sidebar's preview and order follow (the counts come with the engine's view,
   * but for the open conversation's threads). `threadShown`: the message is a reply in the thread the side panel
   * shows (it is read there as it arrives).
   */
  noteMessage(message: Message, me: string | undefined, threadShown?: boolean): void;
  /** the conversation's own list was read (the mentions in its unread threads still count: see mentionsLeft) */
  markedRead(id: string): void;
  /** the engine's count of mentions after a read: those in threads not read yet */
  mentionsLeft(id: string, mentions: number): void;
  clear(): void;
}

const PREVIEW_MAX = 200;

export const useConversations = create<ConversationsState>()((set) => ({
  byId: {},
  seq: 0,
  viewSeq: {},
  loaded: false,
  // Two snapshots asked for close together may answer in either order (each waits on the relay's channel list): an
  // older one than what is shown is dropped, and views that came after a snapshot was read are kept over it.
  setAll: (conversations, seq) => set((s) => {
    if (s.loaded && seq < s.seq) return {};
    // the open conversation keeps this window's counts (see upsert)
    const shown = (c: Conversation): Conversation => (c.id === s.selected ? { ...c, unread: 0, mentions: s.byId[c.id]?.mentions ?? 0 } : c);
    const newer = Object.values(s.byId).filter((c) => (s.viewSeq[c.id] ?? 0) > seq);
    return { byId: Object.fromEntries([...conversations.map((c) => [c.id, shown(c)] as const), ...newer.map((c) => [c.id, c] as const)]), seq, loaded: true };
  }),
  // the engine's view of the open conversation may be read before the markRead of what arrived there: it is seen
  // (its mentions here are those of its unread threads, which this window counts as they arrive)
  upsert: (conversation, seq) => set((s) => ({
    byId: { ...s.byId, [conversation.id]: { ...s.byId[conversation.id], ...conversation, ...(s.selected === conversation.id ? { unread: 0, mentions: s.byId[conversation.id]?.mentions ?? 0 } : {}) } },
    ...(seq !== undefined ? { viewSeq: { ...s.viewSeq, [conversation.id]: seq } } : {}),
  })),
  select: (selected) => set((s) => ({
    selected,
    ...(selected && s.byId[selected] ? { byId: { ...s.byId, [selected]: { ...s.byId[selected]!, unread: 0, mentions: 0 } } } : {}),
  })),
  noteMessage: (message, me, threadShown = false) => set((s) => {
    const conversation = s.byId[message.conversation];
    if (!conversation) return {};
    // as in Slack (and the engine's count): a reply in a thread does not make the channel unread, it is read in its
    // thread (the root shows the count of replies); a mention in one counts until that thread is read, the channel
    // open or not. The open conversation's counts are this window's (the engine's view of it is taken as seen), so
    // such a mention there is counted here; the panel showing the thread reads it.
    const threadMention = !!message.threadRoot && s.selected === message.conversation && !threadShown
      && !message.outgoing && message.sender !== me && me !== undefined && message.mentions.includes(me);
    const newer = !conversation.lastMessageAt || message.sentAt >= conversation.lastMessageAt;
    return {
      byId: {
        ...s.byId,
        [message.conversation]: {
          ...conversation,
          mentions: conversation.mentions + (threadMention ? 1 : 0),
          ...(newer ? {
            lastMessageAt: message.sentAt,
            lastMessage: { id: message.id, sender: message.sender, text: message.text.slice(0, PREVIEW_MAX), sentAt: message.sentAt },
          } : {}),
        },
      },
    };
  }),
  markedRead: (id) => set((s) => (s.byId[id] ? { byId: { ...s.byId, [id]: { ...s.byId[id]!, unread: 0 } } } : {})),
  mentionsLeft: (id, mentions) => set((s) => (s.byId[id] ? { byId: { ...s.byId, [id]: { ...s.byId[id]!, mentions } } } : {})),
  clear: () => set({ byId: {}, seq: 0, viewSeq: {}, loaded: false, selected: undefined }),
}));

const byName = (a: Conversation, b: Conversation) => a.name.localeCompare(b.name);

/** Channels by name; direct and group conversations newest first (as a chat app lists them). */
export function sidebarSections(byId: Record<string, Conversation>): { channels: Conversation[]; directs: Conversation[] } {
  const all = Object.values(byId);
  return {
    channels: all.filter((c) => c.kind === 'channel').sort(byName),
    directs: all.filter((c) => c.kind !== 'channel').sort((a, b) => (b.lastMessageAt ?? '').localeCompare(a.lastMessageAt ?? '') || byName(a, b)),
  };
}
