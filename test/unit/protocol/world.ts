// A small in-process "world" for protocol tests: accounts with several devices, each device with its own
// MemoryProtocolStore, a relay stand-in that holds published bundles, and helpers to exchange device lists.
// Everything here is the real protocol code; only the network is replaced by direct function calls.
import { applyDeviceList, createAccountIdentity, createDevice, signDeviceList, type AccountIdentity, type DeviceIdentity, type KnownAccount } from '../../../core/protocol/identity.ts';
import { dhKeyPair, randomBytes, sign } from '../../../core/crypto/sodium.ts';
import { encodeCbor, framed, uint32Bytes } from '../../../core/protocol/codec.ts';
import { LABEL } from '../../../core/protocol/labels.ts';
import {
  addOneTimePrekeys, createPrekeys, deserializePrekeyState, type PrekeyBundle, type PrekeyState, type PrekeyUpload, type RelayPrekeyStock,
} from '../../../core/protocol/prekeys.ts';
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

/**
 * What the relay would hold per device, with its rules: a certificate, the newest signed prekey and last-resort keys
 * (never deleted), and one-time keys of both kinds, each handed out once, the last-resort ones only when none are left.
 */
export class Relay {
  #uploads = new Map<string, { certificate: Uint8Array; keys: PrekeyUpload }>();

  publish(device: DeviceIdentity, upload: PrekeyUpload): void {
    const key = `${device.userId}/${device.deviceId}`;
    const held = this.#uploads.get(key)?.keys;
    const keys: PrekeyUpload = {
      signedPrekey: upload.signedPrekey ?? held?.signedPrekey ?? null,
      lastResort: upload.lastResort ?? held?.lastResort ?? null,
      kemLastResort: upload.kemLastResort ?? held?.kemLastResort ?? null,
      oneTime: [...(upload.replaceOneTime ? [] : held?.oneTime ?? []), ...upload.oneTime],
      kemOneTime: [...(upload.replaceOneTime ? [] : held?.kemOneTime ?? []), ...upload.kemOneTime],
      replaceOneTime: false,
    };
    this.#uploads.set(key, { certificate: device.certificate, keys });
  }

  bundle(address: DeviceAddress): PrekeyBundle {
    const upload = this.#uploads.get(`${address.userId}/${address.deviceId}`);
    if (!upload) throw new Error(`no such device ${address.userId}/${address.deviceId}`);
    const { signedPrekey, oneTime, lastResort, kemOneTime, kemLastResort } = upload.keys;
    return { certificate: upload.certificate, signedPrekey: signedPrekey!, oneTimePrekey: oneTime.shift() ?? lastResort, kemPrekey: kemOneTime.shift() ?? kemLastResort };
  }

  /** What the relay would answer to GET /v1/prekeys/count. */
  stock(address: DeviceAddress): RelayPrekeyStock {
    const keys = this.#uploads.get(`${address.userId}/${address.deviceId}`)!.keys;
    return {
      oneTime: keys.oneTime.length, kemOneTime: keys.kemOneTime.length, signedPrekeyId: keys.signedPrekey?.id ?? null,
      lastResortId: keys.lastResort?.id ?? null, kemLastResortId: keys.kemLastResort?.id ?? null,
    };
  }
}

/**
 * A device's prekeys as the code from before ML-KEM made them: a version-1 state (classic signed prekey, last-resort
 * key id 0, no ML-KEM keys), loaded through today's deserializer, and what such a device had on the relay.
 */
export function classicPrekeys(device: DeviceIdentity, now: number, oneTimeCount: number): { state: PrekeyState; upload: PrekeyUpload } {
  const signedKey = dhKeyPair(randomBytes(32));
  const signature = sign(framed(LABEL.signedPrekey, uint32Bytes(1), signedKey.publicKey), device.signing.secretKey);
  const lastResort = { id: 0, keyPair: dhKeyPair(randomBytes(32)) };
  const oneTime = Array.from({ length: oneTimeCount }, (_, i) => ({ id: 2 + i, keyPair: dhKeyPair(randomBytes(32)) }));
  const v1 = { v: 1, signed: [{ id: 1, keyPair: signedKey, signature, createdAt: now }], oneTime, lastResort, nextId: 2 + oneTimeCount };
  const publicKey = (k: { id: number; keyPair: { publicKey: Uint8Array } }) => ({ id: k.id, publicKey: k.keyPair.publicKey });
  return {
    state: deserializePrekeyState(encodeCbor(v1)),
    upload: {
      signedPrekey: { id: 1, publicKey: signedKey.publicKey, signature }, lastResort: publicKey(lastResort), kemLastResort: null,
      oneTime: oneTime.map(publicKey), kemOneTime: [], replaceOneTime: true,
    },
  };
}

/** `classic`: devices from before ML-KEM (see classicPrekeys). */
export function makeUser(relay: Relay, userId: string, deviceCount: number, oneTimeKeys = 5, options: { classic?: boolean } = {}): TestUser {
  const account = createAccountIdentity();
  const devices: TestDevice[] = [];
  for (let i = 0; i < deviceCount; i++) {
    const identity = createDevice(account, userId, `d${i}`, NOW);
    const { state, upload } = (options.classic ? classicPrekeys : createPrekeys)(identity, NOW, oneTimeKeys);
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
