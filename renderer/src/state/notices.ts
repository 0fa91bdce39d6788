// Things the user must hear about that belong to no one screen: a failed command, a message that could not be
// decrypted. Nothing fails silently; each notice stays until dismissed or replaced by newer ones.
import { create } from 'zustand';

export interface Notice {
  id: number;
  text: string;
  tone: 'error' | 'info';
}

const KEEP = 5;
let nextId = 1;

interface NoticesState {
  notices: Notice[];
  add(text: string, tone?: Notice['tone']): void;
  dismiss(id: number): void;
  clear(): void;
}

export const useNotices = create<NoticesState>()((set) => ({
  notices: [],
  add: (text, tone = 'error') => set((s) => ({ notices: [...s.notices, { id: nextId++, text, tone }].slice(-KEEP) })),
  dismiss: (id) => set((s) => ({ notices: s.notices.filter((n) => n.id !== id) })),
  clear: () => set({ notices: [] }),
}));
