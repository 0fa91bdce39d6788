// Search across conversations: the query run, its results newest first (messages.search), and its state.
import { create } from 'zustand';
import type { Message } from './types.ts';

interface SearchState {
  query: string;
  results: Message[] | null;
  loading: boolean;
  error?: string;
  started(query: string): void;
  done(query: string, results: Message[]): void;
  failed(query: string, error: string): void;
  clear(): void;
}

export const useSearch = create<SearchState>()((set) => ({
  query: '',
  results: null,
  loading: false,
  started: (query) => set({ query, loading: true, error: undefined }),
  // an answer to a query that is no longer the latest is dropped
  done: (query, results) => set((s) => (s.query === query ? { results, loading: false } : {})),
  failed: (query, error) => set((s) => (s.query === query ? { error, loading: false, results: null } : {})),
  clear: () => set({ query: '', results: null, loading: false, error: undefined }),
}));

/** Results grouped by conversation, each group in the order its newest result came. */
export function groupResults(results: readonly Message[]): { conversation: string; messages: Message[] }[] {
  const groups = new Map<string, Message[]>();
  for (const m of results) groups.set(m.conversation, [...(groups.get(m.conversation) ?? []), m]);
  return [...groups].map(([conversation, messages]) => ({ conversation, messages }));
}
