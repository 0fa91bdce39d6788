// How a profile is unlocked in the desktop app, and what happens to its keystore slot afterwards: pure decisions
// over what is known (the slot the key file names, what the OS keystore can do now, what happened in this run).
// Whatever the keystore does, the passphrase always unlocks, and after it the key is wrapped for this computer's
// keystore again where that is possible: a changed or missing keystore costs one passphrase entry, never the
// profile. The messages are the choice the unlock screen shows.

export type KeystoreStatus =
  | { available: true; provider: string }
  /** `reason` finishes "the system keystore is not available: …" */
  | { available: false; reason: string };

export interface ProfileKeystoreState {
  /** the provider the profile's keystore slot names; null without a slot */
  slot: string | null;
  keystore: KeystoreStatus;
  /** in this run, the keystore was asked for this profile's key and could not give it */
  unwrapFailed: boolean;
  /**
   * the app locked this profile (asked for, idle, the OS locked or slept) and the passphrase has not unlocked it
   * since, this run or an earlier one: the keystore opens for anyone in the OS session, so if it could undo the app
   * lock that lock would mean nothing. Only quitting the app leaves a profile for the keystore to open.
   */
  appLocked: boolean;
}

export type PassphraseReason = 'locked' | 'no-slot' | 'keystore-unavailable' | 'other-keystore' | 'keystore-changed';
export type UnlockPlan = { use: 'keystore' } | { use: 'passphrase'; reason: PassphraseReason; message: string };

/** Without a passphrase: may the keystore unlock this profile, and if not, what the user is told to do. */
export function planUnlock(state: ProfileKeystoreState): UnlockPlan {
  const ask = (reason: PassphraseReason, message: string): UnlockPlan => ({ use: 'passphrase', reason, message });
  const { keystore, slot } = state;
  if (state.appLocked) return ask('locked', 'Wardroom locked this profile: unlock it with your passphrase.');
  if (!keystore.available) {
    return slot === null
      ? ask('keystore-unavailable', `Unlock with your passphrase: the system keystore is not available (${keystore.reason}).`)
      : ask('keystore-unavailable', `The system keystore is not available (${keystore.reason}): unlock with your passphrase. The keystore will unlock this profile again once it is back.`);
  }
  if (slot === null) return ask('no-slot', 'This computer does not keep this profile\'s key yet: unlock with your passphrase, and the system keystore will keep it for next time.');
  if (slot !== keystore.provider) return ask('other-keystore', `This profile's key was kept by another keystore (${slot}): unlock with your passphrase, and this computer's keystore will keep it from now on.`);
  if (state.unwrapFailed) return ask('keystore-changed', 'The system keystore could not unlock this profile (it was reset, or this is another computer or user account): unlock with your passphrase, and the keystore will keep the key again.');
  return { use: 'keystore' };
}

export type SlotAction = 'keep' | 'wrap' | 'rewrap';

/** After the passphrase opened the profile: wrap the key for this keystore, replace a stale wrap, or leave it. */
export function slotAfterPassphrase(state: ProfileKeystoreState): SlotAction {
  if (!state.keystore.available) return 'keep'; // a keystore that is away may come back: its slot stays
  if (state.slot === null) return 'wrap';
  if (state.slot !== state.keystore.provider || state.unwrapFailed) return 'rewrap';
  return 'keep';
}
