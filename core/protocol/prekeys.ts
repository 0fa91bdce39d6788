// A device's prekeys for session set-up (X3DH with an ML-KEM-768 shared secret, x3dh.ts):
//  - one current signed prekey (X25519), rotated weekly, the previous one kept so session starts in flight still work;
//  - a last-resort X25519 prekey and a signed last-resort ML-KEM-768 prekey, rotated with the signed prekey (the
//    previous ones kept likewise). The relay keeps them in their own slots, hands them out only when no one-time key
//    is left, and never deletes them;
//  - one-time X25519 prekeys and signed one-time ML-KEM-768 prekeys, each used once, then deleted.
// Which keys to make and upload is decided here from the device's state AND the relay's count (planPrekeyUpload),
// so a drained, lost or restored relay stock is refilled whatever the device believes it uploaded.
// Pure functions over an explicit PrekeyState (they draw fresh keys, nothing else).
import { sign, verify, type DhKeyPair } from '../crypto/sodium.ts';
import { kemKeyPair, kemPreload, ML_KEM_768_PUBLIC_KEY_BYTES, ML_KEM_768_SEED_BYTES } from '../crypto/ml-kem.ts';
import { newDhKeyPair as dhKeyPair } from './random.ts';
import { bool, bytes, decodeVersioned, encodeCbor, framed, list, nullable, struct, uint, uint32Bytes, UINT32_MAX, type Field } from './codec.ts';
import { fail } from './errors.ts';
import { verifyDeviceForAccount, type DeviceCertificate, type DeviceIdentity, type KnownAccount } from './identity.ts';
import { LABEL } from './labels.ts';
import { LIMITS } from './limits.ts';

export interface SignedPrekey {
  id: number;
  keyPair: DhKeyPair;
  signature: Uint8Array;
  createdAt: number;
  /** Signed under the hybrid label: every session start on it must carry an ML-KEM ciphertext. */
  hybrid: boolean;
}

export interface OneTimePrekey {
  id: number;
  keyPair: DhKeyPair;
}

/** Only the seed is kept: the public key and its signature went to the relay, and 64 bytes keep the state small. */
export interface OneTimeKemPrekey {
  id: number;
  seed: Uint8Array;
}

/** Kept whole, so the device can upload it again to a relay that lost it. */
export interface LastResortKemPrekey {
  id: number;
  seed: Uint8Array;
  publicKey: Uint8Array;
  signature: Uint8Array;
}

export interface PrekeyState {
  /** Newest first; at most PREKEY_GENERATIONS_KEPT. */
  signed: SignedPrekey[];
  /** Newest first, rotated with the signed prekey. */
  lastResort: OneTimePrekey[];
  /** Newest first, rotated with the signed prekey; empty only in a state from before ML-KEM (planPrekeyUpload adds one). */
  kemLastResort: LastResortKemPrekey[];
  oneTime: OneTimePrekey[];
  kemOneTime: OneTimeKemPrekey[];
  /** Next id to hand out; ids are shared by every kind so an id names exactly one key. */
  nextId: number;
}

export interface PublicPrekey {
  id: number;
  publicKey: Uint8Array;
}
export interface PublicSignedPrekey extends PublicPrekey {
  signature: Uint8Array;
}

/** What a device uploads; null and empty fields are left as the relay holds them. */
export interface PrekeyUpload {
  signedPrekey: PublicSignedPrekey | null;
  lastResort: PublicPrekey | null;
  kemLastResort: PublicSignedPrekey | null;
  oneTime: PublicPrekey[];
  kemOneTime: PublicSignedPrekey[];
  /** The relay drops the one-time keys of both kinds it holds before storing these. */
  replaceOneTime: boolean;
}

/** What the relay says it holds for this device (GET /v1/prekeys/count): the input of planPrekeyUpload. */
export interface RelayPrekeyStock {
  oneTime: number;
  kemOneTime: number;
  signedPrekeyId: number | null;
  lastResortId: number | null;
  kemLastResortId: number | null;
}

const PREKEY_GENERATIONS_KEPT = 2;
/** A device holds at most this many unused one-time keys of each kind; adding more forgets the oldest. */
export const MAX_ONE_TIME_PREKEYS = 1000;
export const PREKEY_POLICY = {
  /** One-time keys of each kind the relay should hold after a top-up (and at enrolment). */
  target: 100,
  /** A kind is topped up when the relay holds fewer than this. */
  lowWater: 50,
  /** The signed prekey and the last-resort keys are replaced this often. */
  rotationMs: 7 * 24 * 3600 * 1000,
} as const;

const signedPrekeyMessage = (label: string, id: number, publicKey: Uint8Array) => framed(label, uint32Bytes(id), publicKey);

function newSignedPrekey(device: DeviceIdentity, id: number, now: number): SignedPrekey {
  const keyPair = dhKeyPair();
  const signature = sign(signedPrekeyMessage(LABEL.hybridSignedPrekey, id, keyPair.publicKey), device.signing.secretKey);
  return { id, keyPair, signature, createdAt: now, hybrid: true };
}

function newKemPrekey(device: DeviceIdentity, id: number): LastResortKemPrekey {
  const { publicKey, seed } = kemKeyPair();
  return { id, seed, publicKey, signature: sign(signedPrekeyMessage(LABEL.kemPrekey, id, publicKey), device.signing.secretKey) };
}

const publicSigned = (k: { id: number; keyPair: DhKeyPair; signature: Uint8Array }): PublicSignedPrekey => ({ id: k.id, publicKey: k.keyPair.publicKey, signature: k.signature });
const publicOneTime = (k: OneTimePrekey): PublicPrekey => ({ id: k.id, publicKey: k.keyPair.publicKey });
const publicKem = (k: LastResortKemPrekey): PublicSignedPrekey => ({ id: k.id, publicKey: k.publicKey, signature: k.signature });

function takeIds(state: PrekeyState, count: number): number[] {
  if (state.nextId + count > UINT32_MAX) fail('INVALID_ARGUMENT', 'prekey ids exhausted');
  return Array.from({ length: count }, (_, i) => state.nextId + i);
}

function checkCount(count: number): void {
  if (!Number.isSafeInteger(count) || count < 0 || count > MAX_ONE_TIME_PREKEYS) fail('INVALID_ARGUMENT', 'one-time prekey count out of range');
}

const emptyUpload = (): PrekeyUpload => ({ signedPrekey: null, lastResort: null, kemLastResort: null, oneTime: [], kemOneTime: [], replaceOneTime: false });

export function createPrekeys(device: DeviceIdentity, now: number, oneTimeCount: number): { state: PrekeyState; upload: PrekeyUpload } {
  const empty: PrekeyState = { signed: [], lastResort: [], kemLastResort: [], oneTime: [], kemOneTime: [], nextId: 1 };
  const rotated = rotateSignedPrekey(empty, device, now);
  const classic = addOneTimePrekeys(rotated.state, oneTimeCount);
  const kem = addOneTimeKemPrekeys(classic.state, device, oneTimeCount);
  return {
    state: kem.state,
    upload: {
      signedPrekey: rotated.signedPrekey, lastResort: rotated.lastResort, kemLastResort: rotated.kemLastResort,
      oneTime: classic.oneTime, kemOneTime: kem.kemOneTime, replaceOneTime: true,
    },
  };
}

/** New one-time X25519 prekeys; beyond MAX_ONE_TIME_PREKEYS the oldest are forgotten (long handed out by the relay). */
export function addOneTimePrekeys(state: PrekeyState, count: number): { state: PrekeyState; oneTime: PublicPrekey[] } {
  checkCount(count);
  const fresh = takeIds(state, count).map((id) => ({ id, keyPair: dhKeyPair() }));
  return { state: { ...state, oneTime: [...state.oneTime, ...fresh].slice(-MAX_ONE_TIME_PREKEYS), nextId: state.nextId + count }, oneTime: fresh.map(publicOneTime) };
}

/** New signed one-time ML-KEM-768 prekeys, with the same cap. */
export function addOneTimeKemPrekeys(state: PrekeyState, device: DeviceIdentity, count: number): { state: PrekeyState; kemOneTime: PublicSignedPrekey[] } {
  checkCount(count);
  const fresh = takeIds(state, count).map((id) => newKemPrekey(device, id));
  const kept = fresh.map(({ id, seed }) => ({ id, seed }));
  return { state: { ...state, kemOneTime: [...state.kemOneTime, ...kept].slice(-MAX_ONE_TIME_PREKEYS), nextId: state.nextId + count }, kemOneTime: fresh.map(publicKem) };
}

/**
 * Replaces the signed prekey and both last-resort keys (a state from before ML-KEM gains its first ML-KEM one); the
 * previous ones stay usable until the next rotation.
 */
export function rotateSignedPrekey(state: PrekeyState, device: DeviceIdentity, now: number): { state: PrekeyState; signedPrekey: PublicSignedPrekey; lastResort: PublicPrekey; kemLastResort: PublicSignedPrekey } {
  const [signedId, lastResortId, kemId] = takeIds(state, 3) as [number, number, number];
  const signed = newSignedPrekey(device, signedId, now);
  const lastResort = { id: lastResortId, keyPair: dhKeyPair() };
  const kem = newKemPrekey(device, kemId);
  const keep = <T>(fresh: T, old: T[]) => [fresh, ...old].slice(0, PREKEY_GENERATIONS_KEPT);
  return {
    state: {
      ...state, signed: keep(signed, state.signed), lastResort: keep(lastResort, state.lastResort), kemLastResort: keep(kem, state.kemLastResort), nextId: state.nextId + 3,
    },
    signedPrekey: publicSigned(signed), lastResort: publicOneTime(lastResort), kemLastResort: publicKem(kem),
  };
}

/**
 * What to upload, given the device's state and what the relay says it holds; null when the relay is complete. Rotates
 * first when the signed prekey is due (or the state predates ML-KEM), uploads any current key the relay does not
 * hold, and tops each kind of one-time key up to PREKEY_POLICY.target once the relay holds fewer than lowWater. A
 * state from before ML-KEM also replaces the relay's one-time stock: its last-resort key sits there as an ordinary
 * one-time key, and the relay would hand it out after the device stopped keeping it. The caller commits the
 * returned state BEFORE uploading, so every key the relay can hand out exists on the device.
 */
export function planPrekeyUpload(state: PrekeyState, device: DeviceIdentity, relay: RelayPrekeyStock, now: number): { state: PrekeyState; upload: PrekeyUpload } | null {
  const beforeKem = state.kemLastResort.length === 0;
  let next = state;
  if (beforeKem || now - state.signed[0]!.createdAt >= PREKEY_POLICY.rotationMs) next = rotateSignedPrekey(next, device, now).state;
  const upload = emptyUpload();
  const [signed, lastResort, kemLastResort] = [next.signed[0]!, next.lastResort[0]!, next.kemLastResort[0]!];
  if (relay.signedPrekeyId !== signed.id) upload.signedPrekey = publicSigned(signed);
  if (relay.lastResortId !== lastResort.id) upload.lastResort = publicOneTime(lastResort);
  if (relay.kemLastResortId !== kemLastResort.id) upload.kemLastResort = publicKem(kemLastResort);
  upload.replaceOneTime = beforeKem;
  const held = (count: number) => (beforeKem ? 0 : count);
  const topUp = (count: number) => (count < PREKEY_POLICY.lowWater ? Math.max(0, PREKEY_POLICY.target - count) : 0);
  const classic = addOneTimePrekeys(next, topUp(held(relay.oneTime)));
  const kem = addOneTimeKemPrekeys(classic.state, device, topUp(held(relay.kemOneTime)));
  upload.oneTime = classic.oneTime;
  upload.kemOneTime = kem.kemOneTime;
  const nothing = !upload.signedPrekey && !upload.lastResort && !upload.kemLastResort && upload.oneTime.length === 0 && upload.kemOneTime.length === 0 && !upload.replaceOneTime;
  return nothing ? null : { state: kem.state, upload };
}

/**
 * Expands the ML-KEM decapsulation keys of `state` ahead of use, last-resort keys and the newest one-time keys first
 * (core/crypto/ml-kem.ts keeps a bounded number expanded). A cache: it changes no result, only what a session start
 * costs the responder (about 45 us to decapsulate instead of about 190 us to expand and decapsulate).
 */
export function expandKemPrekeys(state: PrekeyState): void {
  kemPreload([...state.kemOneTime.map((k) => k.seed), ...state.kemLastResort.map((k) => k.seed)]);
}

/** The ids a session start names. */
export interface PrekeyIds {
  signedPrekeyId: number;
  oneTimePrekeyId: number | null;
  kemPrekeyId: number | null;
}

/**
 * Finds the private keys a session start names. One-time keys are removed from the returned state (the caller
 * commits that state with the new session, so a replayed start cannot use them again); last-resort keys are not.
 * A start without an ML-KEM ciphertext on a signed prekey that committed to one is PQ_REQUIRED: a relay removed
 * the ML-KEM prekey from the bundle.
 */
export function takePrekeysForSessionStart(state: PrekeyState, ids: PrekeyIds): { state: PrekeyState; signed: DhKeyPair; oneTime: DhKeyPair | null; kem: { seed: Uint8Array; lastResort: boolean } | null } {
  const signed = state.signed.find((k) => k.id === ids.signedPrekeyId);
  if (!signed) fail('UNKNOWN_PREKEY', 'signed prekey is unknown or expired', { id: ids.signedPrekeyId });
  if (signed.hybrid && ids.kemPrekeyId === null) fail('PQ_REQUIRED', 'a session start without ML-KEM on a prekey published with ML-KEM (refused as a downgrade)');
  let next = state;
  let oneTime: DhKeyPair | null = null;
  if (ids.oneTimePrekeyId !== null) {
    const id = ids.oneTimePrekeyId;
    const lastResort = state.lastResort.find((k) => k.id === id);
    const used = lastResort ?? state.oneTime.find((k) => k.id === id);
    if (!used) fail('UNKNOWN_PREKEY', 'one-time prekey is unknown or already used', { id });
    if (!lastResort) next = { ...next, oneTime: next.oneTime.filter((k) => k.id !== id) };
    oneTime = used.keyPair;
  }
  let kem: { seed: Uint8Array; lastResort: boolean } | null = null;
  if (ids.kemPrekeyId !== null) {
    const id = ids.kemPrekeyId;
    const lastResort = state.kemLastResort.find((k) => k.id === id);
    const used = lastResort ?? state.kemOneTime.find((k) => k.id === id);
    if (!used) fail('UNKNOWN_PREKEY', 'ML-KEM prekey is unknown or already used', { id });
    if (!lastResort) next = { ...next, kemOneTime: next.kemOneTime.filter((k) => k.id !== id) };
    kem = { seed: used.seed, lastResort: lastResort !== undefined };
  }
  return { state: next, signed: signed.keyPair, oneTime, kem };
}

// ---------------------------------------------------------------- bundles (what an initiator fetches from the relay)

export interface PrekeyBundle {
  certificate: Uint8Array;
  signedPrekey: PublicSignedPrekey;
  /** A one-time prekey, or the last-resort prekey when none are left. */
  oneTimePrekey: PublicPrekey | null;
  /** A one-time ML-KEM prekey, or the last-resort one when none are left; null from a device from before ML-KEM. */
  kemPrekey: PublicSignedPrekey | null;
}

export interface VerifiedBundle {
  certificate: DeviceCertificate;
  certificateBlob: Uint8Array;
  signedPrekey: PublicPrekey;
  oneTimePrekey: PublicPrekey | null;
  kemPrekey: PublicPrekey | null;
}

const key32 = bytes(32);
const signature = bytes(64);
const prekeyId = uint(UINT32_MAX);
const idKey = struct({ id: prekeyId, publicKey: key32 });
const signedKey = struct({ id: prekeyId, publicKey: key32, signature });
const kemKey = struct({ id: prekeyId, publicKey: bytes(ML_KEM_768_PUBLIC_KEY_BYTES), signature });
const bundleSchema = struct(
  { v: uint(), certificate: bytes(1, LIMITS.certificateBytes), signedPrekey: signedKey, oneTimePrekey: nullable(idKey) },
  { kemPrekey: nullable(kemKey) },
);
const BUNDLE_VERSION = 2;

export function encodePrekeyBundle(bundle: PrekeyBundle): Uint8Array {
  return encodeCbor({ v: BUNDLE_VERSION, ...bundle });
}

/** Version 1 bundles (from before ML-KEM) have no kemPrekey; version 2 bundles must carry the field. */
export function decodePrekeyBundle(blob: Uint8Array): PrekeyBundle {
  const { v, kemPrekey, ...bundle } = decodeVersioned(blob, bundleSchema, { maxBytes: 8192, versions: [1, BUNDLE_VERSION], what: 'prekey bundle' });
  if ((v === BUNDLE_VERSION) !== (kemPrekey !== undefined)) fail('MALFORMED', `prekey bundle version ${v} ${v === BUNDLE_VERSION ? 'lacks' : 'cannot carry'} kemPrekey`);
  return { ...bundle, kemPrekey: kemPrekey ?? null };
}

/**
 * Checks the bundle's device against the account we know, the signed prekey and the ML-KEM prekey against that
 * device, and that an ML-KEM prekey is present whenever the signed prekey commits to one (PQ_REQUIRED otherwise:
 * the relay stripped it, and a classic session would be a silent downgrade).
 */
export function verifyPrekeyBundle(known: KnownAccount, bundle: PrekeyBundle): VerifiedBundle {
  const certificate = verifyDeviceForAccount(known, bundle.certificate);
  const signer = certificate.signingPublicKey;
  const { id, publicKey, signature: sig } = bundle.signedPrekey;
  const signedUnder = (label: string) => verify(sig, signedPrekeyMessage(label, id, publicKey), signer);
  const kem = bundle.kemPrekey;
  // an honest bundle costs one verification either way: with an ML-KEM prekey the signed prekey is a hybrid one
  if (kem) {
    if (!signedUnder(LABEL.hybridSignedPrekey)) fail('BAD_SIGNATURE', 'signed prekey signature does not verify');
    if (!verify(kem.signature, signedPrekeyMessage(LABEL.kemPrekey, kem.id, kem.publicKey), signer)) fail('BAD_SIGNATURE', 'ML-KEM prekey signature does not verify');
  } else if (!signedUnder(LABEL.signedPrekey)) {
    if (signedUnder(LABEL.hybridSignedPrekey)) fail('PQ_REQUIRED', 'the bundle lacks the ML-KEM prekey its signed prekey commits to');
    fail('BAD_SIGNATURE', 'signed prekey signature does not verify');
  }
  return {
    certificate, certificateBlob: bundle.certificate, signedPrekey: { id, publicKey },
    oneTimePrekey: bundle.oneTimePrekey, kemPrekey: kem ? { id: kem.id, publicKey: kem.publicKey } : null,
  };
}

// ---------------------------------------------------------------- persistence

const keyPairSchema = struct({ publicKey: key32, secretKey: key32 });
const idKeyPair = struct({ id: prekeyId, keyPair: keyPairSchema });
const seed = bytes(ML_KEM_768_SEED_BYTES);
const signedPrekeyFields = { id: prekeyId, keyPair: keyPairSchema, signature, createdAt: uint() };
const stateSchemaV1 = struct({
  v: uint(),
  signed: list(struct(signedPrekeyFields), PREKEY_GENERATIONS_KEPT),
  oneTime: list(idKeyPair, MAX_ONE_TIME_PREKEYS),
  lastResort: idKeyPair,
  nextId: prekeyId,
});
const stateSchemaV2 = struct({
  v: uint(),
  signed: list(struct({ ...signedPrekeyFields, hybrid: bool }), PREKEY_GENERATIONS_KEPT),
  lastResort: list(idKeyPair, PREKEY_GENERATIONS_KEPT),
  kemLastResort: list(struct({ id: prekeyId, seed, publicKey: bytes(ML_KEM_768_PUBLIC_KEY_BYTES), signature }), PREKEY_GENERATIONS_KEPT),
  oneTime: list(idKeyPair, MAX_ONE_TIME_PREKEYS),
  // the seeds packed in one byte string, in the order of the ids: one field to parse instead of a map per key
  // (the state is read on every session start, and holds up to 1,000 of them)
  kemOneTime: struct({ ids: list(prekeyId, MAX_ONE_TIME_PREKEYS), seeds: bytes(0, ML_KEM_768_SEED_BYTES * MAX_ONE_TIME_PREKEYS) }),
  nextId: prekeyId,
});

function packKemSeeds(keys: OneTimeKemPrekey[]): { ids: number[]; seeds: Uint8Array } {
  const seeds = new Uint8Array(keys.length * ML_KEM_768_SEED_BYTES);
  keys.forEach((k, i) => seeds.set(k.seed, i * ML_KEM_768_SEED_BYTES));
  return { ids: keys.map((k) => k.id), seeds };
}

function unpackKemSeeds({ ids, seeds }: { ids: number[]; seeds: Uint8Array }, path: string): OneTimeKemPrekey[] {
  if (seeds.length !== ids.length * ML_KEM_768_SEED_BYTES) fail('MALFORMED', `${path}.kemOneTime has ${ids.length} ids but ${seeds.length} seed bytes`);
  return ids.map((id, i) => ({ id, seed: seeds.subarray(i * ML_KEM_768_SEED_BYTES, (i + 1) * ML_KEM_768_SEED_BYTES) }));
}

/** Version 1 is a state from before ML-KEM: it loads with no ML-KEM keys, and planPrekeyUpload adds them. */
const stateSchema: Field<PrekeyState> = {
  parse(value, path) {
    if ((value as { v: unknown }).v === 1) {
      const { v: _v, signed, lastResort, ...rest } = stateSchemaV1.parse(value, path);
      return { ...rest, signed: signed.map((k) => ({ ...k, hybrid: false })), lastResort: [lastResort], kemLastResort: [], kemOneTime: [] };
    }
    const { v: _v, kemOneTime, ...state } = stateSchemaV2.parse(value, path);
    return { ...state, kemOneTime: unpackKemSeeds(kemOneTime, path) };
  },
};

export function serializePrekeyState(state: PrekeyState): Uint8Array {
  return encodeCbor({ v: 2, ...state, kemOneTime: packKemSeeds(state.kemOneTime) });
}

export function deserializePrekeyState(blob: Uint8Array): PrekeyState {
  return decodeVersioned(blob, stateSchema, { maxBytes: LIMITS.stateBytes, versions: [1, 2], what: 'prekey state' });
}
