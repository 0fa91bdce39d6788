// What the user does about trust: look at someone's profile and safety number, mark it verified (or clear that),
// accept a changed identity so held messages go out, and manage this account's devices. The engine decides; these
// only sequence calls and keep the stores in step. Nothing the relay sends can accept an identity: only these calls,
// made from the user's clicks, can.
import { api, errorText } from '../bridge/index.ts';
import { loadLatest } from './app.ts';
import { useContacts } from './contacts.ts';
import { useConversations } from './conversations.ts';
import { useDevices } from './devices.ts';
import { useNotices } from './notices.ts';
import { useTrust } from './trust.ts';

/** Someone's identity key changed: the number held for them is not theirs any more; an open panel reads the new one. */
export function identityChanged(username: string): void {
  useTrust.getState().setSafety(username, undefined);
  if (useTrust.getState().profileOf === username) void loadSafetyNumber(username);
  void refreshContacts(); // their identity is 'changed' now: the held banner shows
}

export async function refreshContacts(): Promise<void> {
  try {
    useContacts.getState().setAll((await api().call('contacts.list', {})).contacts);
  } catch (error) {
    useNotices.getState().add(`Could not read your contacts: ${errorText(error)}`);
  }
}

async function loadSafetyNumber(username: string): Promise<void> {
  try {
    useTrust.getState().setSafety(username, await api().call('contacts.safetyNumber', { username }));
  } catch (error) {
    useTrust.getState().setSafety(username, { error: errorText(error) });
  }
}

export function openProfile(username: string): void {
  useTrust.getState().setSafety(username, undefined);
  useTrust.getState().set({ profileOf: username });
  void loadSafetyNumber(username);
}

export function closeProfile(): void {
  useTrust.getState().set({ profileOf: undefined });
}

/** What was held for them may have gone out: the open direct conversation shows its new state. */
async function afterIdentitySettled(username: string): Promise<void> {
  await Promise.all([refreshContacts(), loadSafetyNumber(username)]);
  const direct = `d:${username}`;
  if (useConversations.getState().byId[direct]) await loadLatest(direct);
}

/** Marking verified also accepts the key whose number the user compared (the engine sends what was held). */
export async function setVerified(username: string, verified: boolean): Promise<void> {
  await api().call('contacts.markVerified', { username, verified });
  await afterIdentitySettled(username);
}

export async function acceptIdentity(username: string): Promise<void> {
  await api().call('contacts.acceptIdentity', { username });
  await afterIdentitySettled(username);
}

export async function loadDevices(): Promise<void> {
  const devices = useDevices.getState();
  devices.set({ loading: true, error: undefined });
  try {
    devices.set({ devices: (await api().call('devices.list', {})).devices, loading: false });
  } catch (error) {
    devices.set({ loading: false, error: errorText(error) });
  }
}

export async function renameThisDevice(name: string): Promise<void> {
  useDevices.getState().upsert(await api().call('devices.rename', { name }));
}

export async function revokeDevice(deviceId: string): Promise<void> {
  useDevices.getState().upsert(await api().call('devices.revoke', { deviceId }));
}

/** The code a new install shows (WDL1.…): approving it certifies that device, and its link completes. */
export async function approveDevice(code: string): Promise<void> {
  await api().call('devices.approve', { code: code.trim() });
  await loadDevices();
}
