// Which profiles this app holds, which one this window works in, and where in its life the window is: starting,
// onboarding (join), the recovery kit shown once, locked, or open.
import { create } from 'zustand';
import type { Response } from '../bridge/index.ts';
import type { Profile } from './types.ts';

export type Phase = 'starting' | 'onboarding' | 'recovery-kit' | 'locked' | 'opening' | 'open';
export type Me = Response<'account.whoami'>;
export type LockReason = 'requested' | 'idle' | 'system' | 'failed';

interface SessionState {
  phase: Phase;
  profiles: Profile[];
  current?: string;
  me?: Me;
  /** the invite of the relay the app started for itself, offered on the join screen */
  welcomeInvite?: string;
  /** shown once after joining, until the user confirms they stored it */
  recoveryKit?: string;
  lockReason?: LockReason;
  /** the user asked to join another organisation from the unlock screen */
  joining: boolean;
  /** a join link the app was handed (a deep link): the join flow starts from it */
  pendingJoin?: string;
  /** starting failed: why, in the user's terms */
  failure?: string;
  set(patch: Partial<Omit<SessionState, 'set'>>): void;
}

export const useSession = create<SessionState>()((set) => ({
  phase: 'starting',
  profiles: [],
  joining: false,
  set: (patch) => set(patch),
}));
