// A small in-process "world" for protocol tests: accounts with several devices, each device with its own
// MemoryProtocolStore, a relay stand-in that holds published bundles, and helpers to exchange device lists.
// Everything here is the real protocol code; only the network is replaced by direct function calls.
import { applyDeviceList, createAccountIdentity, createDevice, signDeviceList, type AccountIdentity, type DeviceIdentity, type KnownAccount } from '../../../core/protocol/identity.ts';
import { addOneTimePrekeys, createPrekeys, type PrekeyBundle, type PublicPrekeys } from '../../../core/protocol/prekeys.ts';
import { MemoryProtocolStore } from '../../../core/protocol/store.ts';
import type { DeviceAddress, Payload } from '../../../core/protocol/wire.ts';
import { newMessageId } from '../../../core/protocol/processor.ts';

export const NOW = 1_790_000_000_000;

export interface TestDevice {
  identity: DeviceIdentity;
  store: MemoryProtocolStore;
  address: DeviceAddress;
}

export interface TestUser {
  userId: string;
  account: AccountIdentity;
  devices: TestDevice[];
  deviceList: Uint8Array;
}

/** What the relay would hold per device: certificate and uploaded prekeys (one-time keys are handed out once). */
export class Relay {
  #uploads = new Map<string, { certificate: Uint8Array; keys: PublicPrekeys }>();

  publish(device: DeviceIdentity, keys: PublicPrekeys): void {
    this.#uploads.set(`${device.userId}/${device.deviceId}`, { certificate: device.certificate, keys });
  }

  bundle(address: DeviceAddress): PrekeyBundle {
    const upload = this.#uploads.get(`${address.userId}/${address.deviceId}`);
    if (!upload) throw new Error(`no such device ${address.userId}/${address.deviceId}`);
    const oneTime = upload.keys.oneTime.shift() ?? upload.keys.lastResort;
    const { id, publicKey, signature } = upload.keys.signedPrekey;
    return { certificate: upload.certificate, signedPrekey: { id, publicKey, signature }, oneTimePrekey: oneTime };
  }
}

export function makeUser(relay: Relay, userId: string, deviceCount: number, oneTimeKeys = 5): TestUser {
  const account = createAccountIdentity();
  const devices: TestDevice[] = [];
  for (let i = 0; i < deviceCount; i++) {
    const identity = createDevice(account, userId, `d${i}`, NOW);
    const { state, upload } = createPrekeys(identity, NOW, oneTimeKeys);
    relay.publish(identity, upload);
    devices.push({ identity, store: new MemoryProtocolStore(identity, state), address: { userId, deviceId: identity.deviceId } });
  }
  const deviceList = signDeviceList(account, { userId, version: 1, devices: devices.map((d) => d.identity.deviceId), issuedAt: NOW });
  return { userId, account, devices, deviceList };
}

export function knownAccountOf(user: TestUser): KnownAccount {
  return applyDeviceList(null, user.userId, user.deviceList).entry;
}

/** Every device of every user learns every user's device list (as the engine does after fetching them). */
export function introduce(users: TestUser[]): void {
  const writes = users.map((u) => ({ kind: 'known-account' as const, entry: knownAccountOf(u) }));
  for (const user of users) for (const device of user.devices) device.store.commit(writes);
}

export function textPayload(body: string, now = NOW): Payload {
  return { kind: 'text', id: newMessageId(), sentAt: now, timers: null, syncTo: null, group: null, body };
}

export { addOneTimePrekeys };
