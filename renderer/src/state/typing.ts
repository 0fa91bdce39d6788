// Who is typing where. A `typing` event lasts a few seconds unless renewed, so each entry carries its end.
import { create } from 'zustand';

/** How long a typing signal holds without being renewed (the sender renews every few seconds while typing). */
export const TYPING_HOLD_MS = 6_000;

interface TypingState {
  /** conversation -> username -> until when (ms) */
  byConversation: Record<string, Record<string, number>>;
  set(conversation: string, username: string, typing: boolean, now?: number): void;
  expire(now?: number): void;
  clear(): void;
}

export const useTyping = create<TypingState>()((set) => ({
  byConversation: {},
  set: (conversation, username, typing, now = Date.now()) => set((s) => {
    const people = { ...s.byConversation[conversation] };
    if (typing) people[username] = now + TYPING_HOLD_MS;
    else delete people[username];
    return { byConversation: { ...s.byConversation, [conversation]: people } };
  }),
  expire: (now = Date.now()) => set((s) => {
    const lapsed = Object.entries(s.byConversation).filter(([, people]) => Object.values(people).some((until) => until <= now));
    if (lapsed.length === 0) return {}; // nothing changed: no re-render
    const next = { ...s.byConversation };
    for (const [conversation, people] of lapsed) next[conversation] = Object.fromEntries(Object.entries(people).filter(([, until]) => until > now));
    return { byConversation: next };
  }),
  clear: () => set({ byConversation: {} }),
}));
