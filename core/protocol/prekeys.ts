// A device's prekeys for X3DH: one current signed prekey (rotated; the previous one is kept for a grace period so
// session starts already in flight still work), batches of one-time prekeys (each used once, then deleted) and a
// last-resort prekey the relay hands out when the one-time keys run out (reused, never deleted on use, replaced
// when the device uploads a new one). Pure functions over an explicit PrekeyState.
import { sign, verify, type DhKeyPair } from '../crypto/sodium.ts';
import { newDhKeyPair as dhKeyPair } from './random.ts';
import { bytes, decodeVersioned, encodeCbor, framed, list, nullable, struct, uint, uint32Bytes, UINT32_MAX } from './codec.ts';
import { fail } from './errors.ts';
import { verifyDeviceForAccount, type DeviceCertificate, type DeviceIdentity, type KnownAccount } from './identity.ts';
import { LABEL } from './labels.ts';
import { LIMITS } from './limits.ts';

export interface SignedPrekey {
  id: number;
  keyPair: DhKeyPair;
  signature: Uint8Array;
  createdAt: number;
}

export interface OneTimePrekey {
  id: number;
  keyPair: DhKeyPair;
}

export interface PrekeyState {
  /** Newest first; at most SIGNED_PREKEYS_KEPT. */
  signed: SignedPrekey[];
  oneTime: OneTimePrekey[];
  lastResort: OneTimePrekey;
  /** Next id to hand out; ids are shared by all three kinds so an id names exactly one key. */
  nextId: number;
}

/** What a device uploads to the relay. */
export interface PublicPrekeys {
  signedPrekey: { id: number; publicKey: Uint8Array; signature: Uint8Array };
  lastResort: { id: number; publicKey: Uint8Array };
  oneTime: { id: number; publicKey: Uint8Array }[];
}

const SIGNED_PREKEYS_KEPT = 2;
/** A device holds at most this many unused one-time keys. */
export const MAX_ONE_TIME_PREKEYS = 1000;

function signedPrekeyMessage(id: number, publicKey: Uint8Array): Uint8Array {
  return framed(LABEL.signedPrekey, uint32Bytes(id), publicKey);
}

function newSignedPrekey(device: DeviceIdentity, id: number, now: number): SignedPrekey {
  const keyPair = dhKeyPair();
  return { id, keyPair, signature: sign(signedPrekeyMessage(id, keyPair.publicKey), device.signing.secretKey), createdAt: now };
}

const publicSigned = (k: SignedPrekey) => ({ id: k.id, publicKey: k.keyPair.publicKey, signature: k.signature });
const publicOneTime = (k: OneTimePrekey) => ({ id: k.id, publicKey: k.keyPair.publicKey });

function takeIds(state: PrekeyState, count: number): number[] {
  if (state.nextId + count > UINT32_MAX) fail('INVALID_ARGUMENT', 'prekey ids exhausted');
  return Array.from({ length: count }, (_, i) => state.nextId + i);
}

export function createPrekeys(device: DeviceIdentity, now: number, oneTimeCount: number): { state: PrekeyState; upload: PublicPrekeys } {
  const initial: PrekeyState = { signed: [], oneTime: [], lastResort: { id: 0, keyPair: dhKeyPair() }, nextId: 1 };
  const signed = newSignedPrekey(device, 1, now);
  const withSigned: PrekeyState = { ...initial, signed: [signed], nextId: 2 };
  const { state, oneTime } = addOneTimePrekeys(withSigned, oneTimeCount);
  return { state, upload: { signedPrekey: publicSigned(signed), lastResort: publicOneTime(state.lastResort), oneTime } };
}

/** Tops up one-time prekeys (the engine calls this when the relay reports the count running low). */
export function addOneTimePrekeys(state: PrekeyState, count: number): { state: PrekeyState; oneTime: PublicPrekeys['oneTime'] } {
  if (!Number.isSafeInteger(count) || count < 0 || state.oneTime.length + count > MAX_ONE_TIME_PREKEYS) fail('INVALID_ARGUMENT', 'one-time prekey count out of range');
  const fresh = takeIds(state, count).map((id) => ({ id, keyPair: dhKeyPair() }));
  return { state: { ...state, oneTime: [...state.oneTime, ...fresh], nextId: state.nextId + count }, oneTime: fresh.map(publicOneTime) };
}

/** Replaces the signed prekey; the previous one stays usable until the next rotation. */
export function rotateSignedPrekey(state: PrekeyState, device: DeviceIdentity, now: number): { state: PrekeyState; signedPrekey: PublicPrekeys['signedPrekey'] } {
  const [id] = takeIds(state, 1);
  const signed = newSignedPrekey(device, id!, now);
  return { state: { ...state, signed: [signed, ...state.signed].slice(0, SIGNED_PREKEYS_KEPT), nextId: state.nextId + 1 }, signedPrekey: publicSigned(signed) };
}

export function replaceLastResortPrekey(state: PrekeyState): { state: PrekeyState; lastResort: PublicPrekeys['lastResort'] } {
  const [id] = takeIds(state, 1);
  const lastResort = { id: id!, keyPair: dhKeyPair() };
  return { state: { ...state, lastResort, nextId: state.nextId + 1 }, lastResort: publicOneTime(lastResort) };
}

/**
 * Finds the private keys a session start names. A one-time key is removed from the returned state (the caller
 * commits that state with the new session, so a replayed start cannot use it again); the last-resort key is not.
 */
export function takePrekeysForSessionStart(state: PrekeyState, signedId: number, oneTimeId: number | null): { state: PrekeyState; signed: DhKeyPair; oneTime: DhKeyPair | null } {
  const signed = state.signed.find((k) => k.id === signedId);
  if (!signed) fail('UNKNOWN_PREKEY', 'signed prekey is unknown or expired', { id: signedId });
  if (oneTimeId === null) return { state, signed: signed.keyPair, oneTime: null };
  if (oneTimeId === state.lastResort.id) return { state, signed: signed.keyPair, oneTime: state.lastResort.keyPair };
  const oneTime = state.oneTime.find((k) => k.id === oneTimeId);
  if (!oneTime) fail('UNKNOWN_PREKEY', 'one-time prekey is unknown or already used', { id: oneTimeId });
  return { state: { ...state, oneTime: state.oneTime.filter((k) => k.id !== oneTimeId) }, signed: signed.keyPair, oneTime: oneTime.keyPair };
}

// ---------------------------------------------------------------- bundles (what an initiator fetches from the relay)

export interface PrekeyBundle {
  certificate: Uint8Array;
  signedPrekey: { id: number; publicKey: Uint8Array; signature: Uint8Array };
  /** A one-time prekey, or the last-resort prekey when none are left. */
  oneTimePrekey: { id: number; publicKey: Uint8Array } | null;
}

export interface VerifiedBundle {
  certificate: DeviceCertificate;
  certificateBlob: Uint8Array;
  signedPrekey: { id: number; publicKey: Uint8Array };
  oneTimePrekey: { id: number; publicKey: Uint8Array } | null;
}

const key32 = bytes(32);
const idKey = struct({ id: uint(UINT32_MAX), publicKey: key32 });
const bundleSchema = struct({
  v: uint(),
  certificate: bytes(1, LIMITS.certificateBytes),
  signedPrekey: struct({ id: uint(UINT32_MAX), publicKey: key32, signature: bytes(64) }),
  oneTimePrekey: nullable(idKey),
});

export function encodePrekeyBundle(bundle: PrekeyBundle): Uint8Array {
  return encodeCbor({ v: 1, ...bundle });
}

export function decodePrekeyBundle(blob: Uint8Array): PrekeyBundle {
  const { v: _v, ...bundle } = decodeVersioned(blob, bundleSchema, { maxBytes: 4096, versions: [1], what: 'prekey bundle' });
  return bundle;
}

/** Checks the bundle's device against the account we know, and the signed prekey against that device. */
export function verifyPrekeyBundle(known: KnownAccount, bundle: PrekeyBundle): VerifiedBundle {
  const certificate = verifyDeviceForAccount(known, bundle.certificate);
  const { id, publicKey, signature } = bundle.signedPrekey;
  if (!verify(signature, signedPrekeyMessage(id, publicKey), certificate.signingPublicKey)) fail('BAD_SIGNATURE', 'signed prekey signature does not verify');
  return { certificate, certificateBlob: bundle.certificate, signedPrekey: { id, publicKey }, oneTimePrekey: bundle.oneTimePrekey };
}

// ---------------------------------------------------------------- persistence

const keyPairSchema = struct({ publicKey: key32, secretKey: key32 });
const prekeyStateSchema = struct({
  v: uint(),
  signed: list(struct({ id: uint(UINT32_MAX), keyPair: keyPairSchema, signature: bytes(64), createdAt: uint() }), SIGNED_PREKEYS_KEPT),
  oneTime: list(struct({ id: uint(UINT32_MAX), keyPair: keyPairSchema }), MAX_ONE_TIME_PREKEYS),
  lastResort: struct({ id: uint(UINT32_MAX), keyPair: keyPairSchema }),
  nextId: uint(UINT32_MAX),
});

export function serializePrekeyState(state: PrekeyState): Uint8Array {
  return encodeCbor({ v: 1, ...state });
}

export function deserializePrekeyState(blob: Uint8Array): PrekeyState {
  const { v: _v, ...state } = decodeVersioned(blob, prekeyStateSchema, { maxBytes: LIMITS.stateBytes, versions: [1], what: 'prekey state' });
  return state;
}
