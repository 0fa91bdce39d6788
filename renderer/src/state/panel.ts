// The side panel beside the conversation: a thread (its root and replies, from messages.thread, kept in step by
// live events), the channel's members with their roles, or search results. One at a time, as Slack shows them.
import { create } from 'zustand';
import type { Message } from './types.ts';

export type Panel =
  | { kind: 'thread'; conversation: string; root: string }
  | { kind: 'members'; conversation: string }
  | { kind: 'search' };

export interface ThreadView {
  root: Message;
  replies: Message[];
  hasOlder: boolean;
}

export interface Member {
  username: string;
  role: 'owner' | 'admin' | 'member';
}

interface PanelState {
  panel: Panel | null;
  thread?: ThreadView;
  members?: Member[];
  error?: string;
  open(panel: Panel): void;
  close(): void;
  threadLoaded(thread: ThreadView): void;
  membersLoaded(members: Member[]): void;
  failed(error: string): void;
  /** a live message: a new reply of the open thread, or a change to one of its messages */
  message(message: Message): void;
  removed(id: string): void;
  clear(): void;
}

export const usePanel = create<PanelState>()((set) => ({
  panel: null,
  open: (panel) => set({ panel, thread: undefined, members: undefined, error: undefined }),
  close: () => set({ panel: null, thread: undefined, members: undefined, error: undefined }),
  threadLoaded: (thread) => set({ thread, error: undefined }),
  membersLoaded: (members) => set({ members, error: undefined }),
  failed: (error) => set({ error }),
  message: (message) => set((s) => {
    const thread = s.thread;
    if (!thread) return {};
    if (message.id === thread.root.id) return { thread: { ...thread, root: message } };
    if (message.threadRoot !== thread.root.id) return {};
    const at = thread.replies.findIndex((m) => m.id === message.id);
    const replies = at >= 0 ? thread.replies.map((m) => (m.id === message.id ? message : m))
      : [...thread.replies, message].sort((a, b) => a.sentAt.localeCompare(b.sentAt));
    return { thread: { ...thread, replies } };
  }),
  removed: (id) => set((s) => {
    if (!s.thread) return {};
    if (s.thread.root.id === id) return { panel: null, thread: undefined }; // its root is gone: so is the thread
    return { thread: { ...s.thread, replies: s.thread.replies.filter((m) => m.id !== id) } };
  }),
  clear: () => set({ panel: null, thread: undefined, members: undefined, error: undefined }),
}));

/** Whether the side panel shows this thread to the user now (open, and the window in view): its replies are read. */
export function threadShown(root: string | undefined): boolean {
  const panel = usePanel.getState().panel;
  return root !== undefined && panel?.kind === 'thread' && panel.root === root && document.visibilityState === 'visible';
}
