// A store of transfers under way (uploads.ts, downloads.ts), each by the operation id its command runs under.
import { create } from 'zustand';

export interface TransfersState<T extends { id: string }> {
  items: Record<string, T>;
  begin(item: T): void;
  update(id: string, patch: Partial<T>): void;
  end(id: string): void;
  clear(): void;
}

export const transferStore = <T extends { id: string }>() => create<TransfersState<T>>()((set) => ({
  items: {},
  begin: (item) => set((s) => ({ items: { ...s.items, [item.id]: item } })),
  update: (id, patch) => set((s) => (s.items[id] ? { items: { ...s.items, [id]: { ...s.items[id], ...patch } } } : s)),
  end: (id) => set((s) => {
    const { [id]: _gone, ...rest } = s.items;
    return { items: rest };
  }),
  clear: () => set({ items: {} }),
}));
