// What each composer is doing besides writing a new message: replying to one (quoted above the composer) or
// editing one of ours (the draft it replaced comes back when the edit ends). One per composer: a conversation's
// own, keyed by its id, and a thread panel's, keyed `thread:` + the root's id.
import { create } from 'zustand';

export type ComposeMode = { kind: 'reply'; id: string } | { kind: 'edit'; id: string; draftBefore: string };

interface ComposeState {
  modes: Record<string, ComposeMode | undefined>;
  set(scope: string, mode: ComposeMode | undefined): void;
  clear(): void;
}

export const useCompose = create<ComposeState>()((set) => ({
  modes: {},
  set: (scope, mode) => set((s) => ({ modes: { ...s.modes, [scope]: mode } })),
  clear: () => set({ modes: {} }),
}));

export const threadScope = (root: string) => `thread:${root}`;
