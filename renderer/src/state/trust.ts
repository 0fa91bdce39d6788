// Whom the user is looking at in the profile panel, and the safety numbers fetched for it. A safety number is read
// again each time the panel opens: a key can change between two looks.
import { create } from 'zustand';
import type { Response } from '../bridge/api.ts';
import type { Contact } from './types.ts';

export type SafetyNumber = Response<'contacts.safetyNumber'>;

interface TrustState {
  /** the username whose profile panel is open */
  profileOf?: string;
  safety: Record<string, SafetyNumber | { error: string }>;
  set(patch: Partial<Omit<TrustState, 'set' | 'setSafety' | 'clear'>>): void;
  /** undefined forgets it: a number shown while the new one loads could be one that is no longer true */
  setSafety(username: string, value: SafetyNumber | { error: string } | undefined): void;
  clear(): void;
}

export const useTrust = create<TrustState>()((set) => ({
  safety: {},
  set: (patch) => set(patch),
  setSafety: (username, value) => set((s) => {
    const { [username]: _old, ...rest } = s.safety;
    return { safety: value === undefined ? rest : { ...rest, [username]: value } };
  }),
  clear: () => set({ profileOf: undefined, safety: {} }),
}));

/** The people of a conversation whose new identity key the user has not accepted: sends to them are held. */
export function awaitingAcceptance(members: readonly string[], me: string | undefined, contacts: Record<string, Contact>): Contact[] {
  return members.filter((m) => m !== me).map((m) => contacts[m]).filter((c): c is Contact => c !== undefined && c.identity !== 'accepted');
}
