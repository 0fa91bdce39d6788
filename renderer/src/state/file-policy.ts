// The org's rules for files as this device's engine enforces them (files.policy): asked when first needed and again
// whenever a newer signed policy is in force (policy.changed), so the composer and the file rows follow an admin's
// change without a restart. Unknown until the engine answers: nothing is disabled on a guess.
import { useEffect } from 'react';
import { create } from 'zustand';
import { api, type Response } from '../bridge/index.ts';
import { formatSize } from '../lib/bytes.ts';

export type FilePolicy = Response<'files.policy'>;

interface FilePolicyState {
  policy: FilePolicy | null;
  /** the answer being awaited, so many rows asking at once make one call */
  loading: Promise<void> | null;
  load(): Promise<void>;
  clear(): void;
}

export const useFilePolicy = create<FilePolicyState>()((set, get) => ({
  policy: null,
  loading: null,
  load: () => {
    const loading = api().call('files.policy', {}).then((policy) => {
      if (get().loading === loading) set({ policy, loading: null });
    }, () => {
      if (get().loading === loading) set({ loading: null });
    });
    set({ loading });
    return loading;
  },
  clear: () => set({ policy: null, loading: null }),
}));

/** The file policy for a component: asked for on first use. */
export function useFilePolicyNow(): FilePolicy | null {
  const policy = useFilePolicy((s) => s.policy);
  useEffect(() => {
    const state = useFilePolicy.getState();
    if (state.policy === null && state.loading === null) void state.load();
  }, [policy]);
  return policy;
}

/** Why files cannot be attached at all, in the user's terms; null when they can. */
export function attachRefusal(policy: FilePolicy | null): string | null {
  if (policy && !policy.enabled) return 'Your organisation\'s policy does not allow sending files.';
  return null;
}

/**
 * The chosen files the policy lets through, and a sentence for each it does not, said as they are chosen rather
 * than after staging. Types are the engine's to judge (it says which, in the same terms, if one is refused).
 */
export function admitFiles(policy: FilePolicy | null, chosen: readonly File[]): { admitted: File[]; refusals: string[] } {
  const refusal = attachRefusal(policy);
  if (refusal) return { admitted: [], refusals: chosen.length > 0 ? [refusal] : [] };
  const admitted: File[] = [];
  const refusals: string[] = [];
  for (const file of chosen) {
    if (policy && file.size > policy.maxBytes) refusals.push(`${file.name} is ${formatSize(file.size)}; your organisation's policy allows files up to ${formatSize(policy.maxBytes)}.`);
    else admitted.push(file);
  }
  return { admitted, refusals };
}
