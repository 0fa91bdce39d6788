// Account and device identities, the recovery kit, device certificates and signed device lists.
//
// Trust model: the account key (Ed25519) is the root for one user. It signs a certificate per device and a
// versioned list of the account's devices. The relay stores these as opaque signed blobs; every client verifies
// them itself, so a server cannot add a device to an account, and an account key that changes is reported to
// the caller as a distinct outcome (a key-change warning), never swallowed.
import {
  concatBytes, constantTimeEqual, dhKeyPair, hkdfSha256, openWithPrefixedNonce,
  sealWithRandomNonce, sign, signingKeyPair, verify, blake2b, CryptoError,
  type DhKeyPair, type SigningKeyPair,
} from '../crypto/sodium.ts';
import { bytes, decodeVersioned, encodeCbor, framed, list, struct, text, uint, type Field } from './codec.ts';
import { fail } from './errors.ts';
import { LABEL } from './labels.ts';
import { LIMITS } from './limits.ts';
import { newDhKeyPair, newSigningKeyPair, randomKey } from './random.ts';

const id = text(LIMITS.idBytes, 1);
const key32 = bytes(32);

// ---------------------------------------------------------------- signed blobs

const signedBlobSchema = struct({ v: uint(), body: bytes(1, LIMITS.deviceListBytes), sig: bytes(64) });

/** A signed blob is CBOR {v, body, sig}; the signature covers framed(context, body) so contexts never collide. */
function signBlob(context: string, body: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return encodeCbor({ v: 1, body, sig: sign(framed(context, body), secretKey) });
}

function openBlob(blob: Uint8Array, maxBytes: number, what: string): { body: Uint8Array; sig: Uint8Array } {
  const { body, sig } = decodeVersioned(blob, signedBlobSchema, { maxBytes, versions: [1], what });
  return { body, sig };
}

function checkSignature(context: string, body: Uint8Array, sig: Uint8Array, publicKey: Uint8Array, what: string): void {
  if (!verify(sig, framed(context, body), publicKey)) fail('BAD_SIGNATURE', `${what} signature does not verify`);
}

// ---------------------------------------------------------------- account identity and recovery kit

export interface AccountIdentity {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export function createAccountIdentity(): AccountIdentity {
  return newSigningKeyPair();
}

const accountSchema = struct({ v: uint(), seed: key32 });

/** Persisted form: only the 32-byte seed; the key pair is re-derived (and so cannot be inconsistent). */
export function serializeAccountIdentity(account: AccountIdentity): Uint8Array {
  return encodeCbor({ v: 1, seed: account.secretKey.subarray(0, 32) });
}

export function deserializeAccountIdentity(blob: Uint8Array): AccountIdentity {
  const { seed } = decodeVersioned(blob, accountSchema, { maxBytes: 256, versions: [1], what: 'account identity' });
  return signingKeyPair(seed);
}

const RECOVERY_KEY_BYTES = 32;
const RECOVERY_CHECK_BYTES = 2;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(data: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of data) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

function fromBase32(textIn: string): Uint8Array {
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const ch of textIn) {
    const value = BASE32.indexOf(ch);
    if (value < 0) fail('MALFORMED', 'recovery code contains a character outside its alphabet');
    buffer = (buffer << 5) | value;
    bits += 5;
    if (bits >= 8) {
      out.push((buffer >>> (bits - 8)) & 255);
      bits -= 8;
      buffer &= (1 << bits) - 1;
    }
  }
  return Uint8Array.from(out);
}

/** The human form: 256 random bits plus a 16-bit checksum (catches typos), base32 in groups of five. */
function formatRecoveryCode(recoveryKey: Uint8Array): string {
  const encoded = base32(concatBytes(recoveryKey, blake2b(recoveryKey, 16).subarray(0, RECOVERY_CHECK_BYTES)));
  return encoded.match(/.{1,5}/g)!.join('-');
}

function parseRecoveryCode(code: string): Uint8Array {
  if (code.length > 200) fail('OVERSIZED', 'recovery code is far too long');
  // forgiving about case, spaces and dashes, and about digits people type for look-alike letters
  const cleaned = code.toUpperCase().replace(/[\s-]/g, '').replace(/0/g, 'O').replace(/1/g, 'I').replace(/8/g, 'B');
  const raw = fromBase32(cleaned);
  if (raw.length !== RECOVERY_KEY_BYTES + RECOVERY_CHECK_BYTES) fail('MALFORMED', 'recovery code has the wrong length');
  const recoveryKey = raw.subarray(0, RECOVERY_KEY_BYTES);
  const check = blake2b(recoveryKey, 16).subarray(0, RECOVERY_CHECK_BYTES);
  if (!constantTimeEqual(check, raw.subarray(RECOVERY_KEY_BYTES))) fail('MALFORMED', 'recovery code checksum does not match (typo?)');
  return Uint8Array.from(recoveryKey);
}

const kitSchema = struct({ v: uint(), account: key32, box: bytes(24 + 16 + 32) });

export interface RecoveryKit {
  /** Stored anywhere (server, file): useless without the code. */
  kit: Uint8Array;
  /** Shown to the user once; the only copy of the recovery key. */
  recoveryCode: string;
}

/**
 * Seals the account seed under a fresh random 256-bit recovery key. No Argon2id: the key is not a password
 * but uniformly random, so brute force is already 2^256; a slow hash would add nothing but delay.
 */
export function createRecoveryKit(account: AccountIdentity): RecoveryKit {
  const { box, code } = sealSigningSeed(LABEL.recoveryKit, account);
  return { kit: encodeCbor({ v: 1, account: account.publicKey, box }), recoveryCode: code };
}

export function openRecoveryKit(kit: Uint8Array, recoveryCode: string): AccountIdentity {
  const parsed = decodeVersioned(kit, kitSchema, { maxBytes: 256, versions: [1], what: 'recovery kit' });
  return openSigningSeed(LABEL.recoveryKit, parsed.account, parsed.box, recoveryCode, 'recovery kit');
}

/**
 * Seals an Ed25519 key pair's seed under a fresh random 256-bit key, bound to its public key and to `label` (what
 * the box is for), and gives that key as a code a person can write down: the recovery kit, the org key's backup.
 */
export function sealSigningSeed(label: string, keys: SigningKeyPair): { box: Uint8Array; code: string } {
  const recoveryKey = randomKey();
  const wrapKey = hkdfSha256(recoveryKey, null, label, 32);
  return { box: sealWithRandomNonce(wrapKey, keys.secretKey.subarray(0, 32), framed(label, keys.publicKey)), code: formatRecoveryCode(recoveryKey) };
}

/** Opens what sealSigningSeed sealed: DECRYPT_FAILED when the code is not the one, or the box holds another key. */
export function openSigningSeed(label: string, publicKey: Uint8Array, box: Uint8Array, code: string, what: string): SigningKeyPair {
  const wrapKey = hkdfSha256(parseRecoveryCode(code), null, label, 32);
  let seed: Uint8Array;
  try {
    seed = openWithPrefixedNonce(wrapKey, box, framed(label, publicKey));
  } catch (error) {
    if (error instanceof CryptoError) fail('DECRYPT_FAILED', `the code does not open this ${what}`);
    throw error;
  }
  const keys = signingKeyPair(seed);
  if (!constantTimeEqual(keys.publicKey, publicKey)) fail('DECRYPT_FAILED', `the ${what} holds a different key`);
  return keys;
}

// ---------------------------------------------------------------- device certificates

export interface DeviceCertificate {
  userId: string;
  accountPublicKey: Uint8Array;
  deviceId: string;
  /** Ed25519: signs prekeys and authenticates the device to the relay. */
  signingPublicKey: Uint8Array;
  /** X25519: the device's identity key in X3DH (signed here rather than converted from Ed25519). */
  dhPublicKey: Uint8Array;
  createdAt: number;
}

const certificateBodySchema = struct({ v: uint(), user: id, account: key32, device: id, sign: key32, dh: key32, created: uint() });

export interface DeviceIdentity {
  userId: string;
  deviceId: string;
  signing: SigningKeyPair;
  dh: DhKeyPair;
  /** The signed certificate blob, as published. */
  certificate: Uint8Array;
}

/** Creates a device's keys and has the account key certify them (at sign-up, or by an existing device / the kit). */
export function createDevice(account: AccountIdentity, userId: string, deviceIdOrDerive: string | ((signingPublicKey: Uint8Array) => string), now: number): DeviceIdentity {
  const signing = newSigningKeyPair();
  const dhPair = newDhKeyPair();
  // The relay names a device by a hash of its signing key (core/protocol/ids.ts), so the id can be derived here.
  const deviceId = typeof deviceIdOrDerive === 'string' ? deviceIdOrDerive : deviceIdOrDerive(signing.publicKey);
  id.parse(userId, 'userId');
  id.parse(deviceId, 'deviceId');
  return { userId, deviceId, signing, dh: dhPair, certificate: certifyDevice(account, userId, deviceId, signing.publicKey, dhPair.publicKey, now) };
}

/** The account key's certificate for device keys made elsewhere (a new device being linked shows its public keys). */
export function certifyDevice(account: AccountIdentity, userId: string, deviceId: string, signingPublicKey: Uint8Array, dhPublicKey: Uint8Array, now: number): Uint8Array {
  id.parse(userId, 'userId');
  id.parse(deviceId, 'deviceId');
  key32.parse(signingPublicKey, 'signingPublicKey');
  key32.parse(dhPublicKey, 'dhPublicKey');
  const body = encodeCbor({ v: 1, user: userId, account: account.publicKey, device: deviceId, sign: signingPublicKey, dh: dhPublicKey, created: now });
  return signBlob(LABEL.deviceCertificate, body, account.secretKey);
}

/**
 * Verifies a certificate's signature with the account key inside it (self-consistency only). Whether that account
 * key is the right one for the user is the DeviceDirectory's job: use verifyDeviceForAccount for that.
 */
export function decodeDeviceCertificate(blob: Uint8Array): DeviceCertificate {
  const { body, sig } = openBlob(blob, LIMITS.certificateBytes, 'device certificate');
  const c = decodeVersioned(body, certificateBodySchema, { maxBytes: LIMITS.certificateBytes, versions: [1], what: 'device certificate body' });
  checkSignature(LABEL.deviceCertificate, body, sig, c.account, 'device certificate');
  return { userId: c.user, accountPublicKey: c.account, deviceId: c.device, signingPublicKey: c.sign, dhPublicKey: c.dh, createdAt: c.created };
}

const deviceIdentitySchema = struct({ v: uint(), signSeed: key32, dhSecret: key32, certificate: bytes(1, LIMITS.certificateBytes) });

export function serializeDeviceIdentity(device: DeviceIdentity): Uint8Array {
  return encodeCbor({ v: 1, signSeed: device.signing.secretKey.subarray(0, 32), dhSecret: device.dh.secretKey, certificate: device.certificate });
}

export function deserializeDeviceIdentity(blob: Uint8Array): DeviceIdentity {
  const s = decodeVersioned(blob, deviceIdentitySchema, { maxBytes: 2048, versions: [1], what: 'device identity' });
  const cert = decodeDeviceCertificate(s.certificate);
  const signing = signingKeyPair(s.signSeed);
  const dhPair = dhKeyPair(s.dhSecret);
  if (!constantTimeEqual(signing.publicKey, cert.signingPublicKey) || !constantTimeEqual(dhPair.publicKey, cert.dhPublicKey)) {
    fail('MALFORMED', 'device identity keys do not match its certificate');
  }
  return { userId: cert.userId, deviceId: cert.deviceId, signing, dh: dhPair, certificate: s.certificate };
}

// ---------------------------------------------------------------- device lists

export interface DeviceList {
  userId: string;
  accountPublicKey: Uint8Array;
  version: number;
  devices: string[];
  issuedAt: number;
}

const deviceListBodySchema = struct({ v: uint(), user: id, account: key32, version: uint(), devices: list(id, LIMITS.devicesPerAccount), issued: uint() });

export function signDeviceList(account: AccountIdentity, list: Omit<DeviceList, 'accountPublicKey'>): Uint8Array {
  if (new Set(list.devices).size !== list.devices.length) fail('INVALID_ARGUMENT', 'device list has duplicate ids');
  const body = encodeCbor({ v: 1, user: list.userId, account: account.publicKey, version: list.version, devices: list.devices, issued: list.issuedAt });
  return signBlob(LABEL.deviceList, body, account.secretKey);
}

/** Decodes and checks the list's self-signature. Returns the list and a digest that identifies its exact content. */
export function decodeDeviceList(blob: Uint8Array): { list: DeviceList; digest: Uint8Array } {
  const { body, sig } = openBlob(blob, LIMITS.deviceListBytes + 128, 'device list');
  const l = decodeVersioned(body, deviceListBodySchema, { maxBytes: LIMITS.deviceListBytes, versions: [1], what: 'device list body' });
  checkSignature(LABEL.deviceList, body, sig, l.account, 'device list');
  if (new Set(l.devices).size !== l.devices.length) fail('MALFORMED', 'device list has duplicate ids');
  return { list: { userId: l.user, accountPublicKey: l.account, version: l.version, devices: l.devices, issuedAt: l.issued }, digest: blake2b(body, 32) };
}

// ---------------------------------------------------------------- the directory: what we believe about an account

/** What a client remembers about one account: the key it trusts and the newest device list it accepted. */
export interface KnownAccount {
  userId: string;
  accountPublicKey: Uint8Array;
  listVersion: number;
  listDigest: Uint8Array;
  devices: string[];
}

export type DeviceListOutcome =
  | { kind: 'first-seen'; entry: KnownAccount }
  | { kind: 'updated'; entry: KnownAccount; added: string[]; removed: string[] }
  | { kind: 'unchanged'; entry: KnownAccount }
  /** The account key changed: the caller must warn the user; `entry` is what to store once it has. */
  | { kind: 'key-changed'; entry: KnownAccount; previousAccountKey: Uint8Array };

/**
 * Accepts a signed device list for `userId` given what we knew before. Refuses (typed errors, `known` unchanged):
 * a bad signature, a list for another user, an older version, or a same-version list with different content.
 */
export function applyDeviceList(known: KnownAccount | null, userId: string, blob: Uint8Array): DeviceListOutcome {
  const { list: l, digest } = decodeDeviceList(blob);
  if (l.userId !== userId) fail('WRONG_RECIPIENT', 'device list belongs to another user');
  const entry: KnownAccount = { userId, accountPublicKey: l.accountPublicKey, listVersion: l.version, listDigest: digest, devices: l.devices };
  if (!known) return { kind: 'first-seen', entry };
  if (!constantTimeEqual(known.accountPublicKey, l.accountPublicKey)) {
    return { kind: 'key-changed', entry, previousAccountKey: known.accountPublicKey };
  }
  if (l.version < known.listVersion) fail('STALE_DEVICE_LIST', 'device list is older than the one already accepted', { version: l.version, known: known.listVersion });
  if (l.version === known.listVersion) {
    if (!constantTimeEqual(digest, known.listDigest)) fail('STALE_DEVICE_LIST', 'two different device lists carry the same version', { version: l.version });
    return { kind: 'unchanged', entry: known };
  }
  const added = l.devices.filter((d) => !known.devices.includes(d));
  const removed = known.devices.filter((d) => !l.devices.includes(d));
  return { kind: 'updated', entry, added, removed };
}

/** Verifies a device certificate against an account we know: right key, right user, and on the current list. */
export function verifyDeviceForAccount(known: KnownAccount, certificateBlob: Uint8Array): DeviceCertificate {
  const cert = decodeDeviceCertificate(certificateBlob);
  if (!constantTimeEqual(cert.accountPublicKey, known.accountPublicKey)) fail('UNKNOWN_DEVICE', 'device certificate is signed by another account key');
  if (cert.userId !== known.userId) fail('UNKNOWN_DEVICE', 'device certificate names another user');
  if (!known.devices.includes(cert.deviceId)) fail('UNKNOWN_DEVICE', 'device is not on the account\'s signed device list');
  return cert;
}

const knownAccountSchema = struct({ v: uint(), user: id, account: key32, version: uint(), digest: key32, devices: list(id, LIMITS.devicesPerAccount) });

export function serializeKnownAccount(k: KnownAccount): Uint8Array {
  return encodeCbor({ v: 1, user: k.userId, account: k.accountPublicKey, version: k.listVersion, digest: k.listDigest, devices: k.devices });
}

export function deserializeKnownAccount(blob: Uint8Array): KnownAccount {
  const k = decodeVersioned(blob, knownAccountSchema, { maxBytes: LIMITS.deviceListBytes, versions: [1], what: 'known account' });
  return { userId: k.user, accountPublicKey: k.account, listVersion: k.version, listDigest: k.digest, devices: k.devices };
}

/** The schema for user, device and channel ids, shared by every module that decodes one. */
export const idField: Field<string> = id;
