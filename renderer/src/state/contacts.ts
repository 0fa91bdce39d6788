// The people this profile knows, with the display names they chose (shown beside the username, never instead).
import { create } from 'zustand';
import type { Contact } from './types.ts';

interface ContactsState {
  byUsername: Record<string, Contact>;
  setAll(contacts: Contact[]): void;
  upsert(contact: Contact): void;
  clear(): void;
}

export const useContacts = create<ContactsState>()((set) => ({
  byUsername: {},
  setAll: (contacts) => set({ byUsername: Object.fromEntries(contacts.map((c) => [c.username, c])) }),
  upsert: (contact) => set((s) => ({ byUsername: { ...s.byUsername, [contact.username]: contact } })),
  clear: () => set({ byUsername: {} }),
}));

export const useDisplayName = (username: string): string | undefined => useContacts((s) => s.byUsername[username]?.displayName);
