// The org's rules for files as this device's engine enforces them (files.policy): asked when first needed and again
// whenever a newer signed policy is in force (policy.changed), so the composer and the file rows follow an admin's
// change without a restart. Unknown until the engine answers: nothing is disabled on a guess.
import { useEffect } from 'react';
import { create } from 'zustand';
import { api, type Response } from '../bridge/index.ts';

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

/** Why files cannot be attached here, in the user's terms; null when they can. */
export function attachRefusal(policy: FilePolicy | null): string | null {
  if (policy && !policy.enabled) return 'Your organisation\'s policy does not allow sending files.';
  return null;
}
