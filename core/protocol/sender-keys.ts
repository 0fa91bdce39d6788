// Sender Keys for channels, per (channel, sender device): a hash-chain ratchet (forward secrecy: a chain key
// yields the next one and a message key, never the reverse) and an Ed25519 signature on every message with a
// signing key that belongs to this sender key only. The chain key and signing public key travel to each member
// device inside the pairwise sessions (a "sender-key" payload), so only devices the sender chose can read.
//
// Membership: a device that joins receives the chain at the current iteration, so it cannot derive keys for
// earlier messages. When a member or device leaves, the sender makes a new sender key and gives it only to those
// who remain, so the removed device learns nothing about later messages. Rotation also happens by count and age.
import { AEAD_TAG_BYTES, aeadDecrypt, aeadEncryptInto, allocBytes, CryptoError, sign, verify, type SigningKeyPair } from '../crypto/sodium.ts';
import { newSigningKeyPair, randomKey, randomUint32 } from './random.ts';
import { bytes, decodeVersioned, encodeCbor, framed, framedLength, framedParts, list, struct, uint, uint32Bytes, UINT32_MAX, writeFramed } from './codec.ts';
import { fail } from './errors.ts';
import { idField } from './identity.ts';
import { LABEL } from './labels.ts';
import { LIMITS, SENDER_KEY_ROTATION } from './limits.ts';
import { kdfChain, messageKeys } from './ratchet.ts';
import { addDiscarded, discardedRangeSchema, isDiscarded, keepNewest, type DiscardedRange } from './discarded.ts';
import type { ChannelEnvelope, DeviceAddress, SenderKeyDistribution } from './wire.ts';

export interface OutboundSenderKey {
  channelId: string;
  keyId: number;
  chainKey: Uint8Array;
  iteration: number;
  signing: SigningKeyPair;
  /**
   * The chain key at iteration 0, kept so a member that missed the distribution can be re-sent the key from the
   * iteration it was first entitled to (see redistributeSenderKey). Rotation bounds how long it is kept.
   */
  initialChainKey: Uint8Array;
  createdAt: number;
  /** The keys this one replaced (newest first, at most RETIRED_SENDER_KEYS_KEPT), kept only to answer requests. */
  retired: RetiredSenderKey[];
}

/**
 * What the sender keeps of a replaced key: enough to re-send it to a member that lost the distribution (its
 * messages stay readable after a rotation), nothing to encrypt with.
 */
export interface RetiredSenderKey {
  keyId: number;
  initialChainKey: Uint8Array;
  signingPublicKey: Uint8Array;
  /** iterations [0, endIteration) were used */
  endIteration: number;
}

const RETIRED_SENDER_KEYS_KEPT = 2;

export interface InboundSenderKey {
  channelId: string;
  sender: DeviceAddress;
  keyId: number;
  chainKey: Uint8Array;
  /** next iteration the chain will produce */
  iteration: number;
  /** lowest iteration we ever held a key for: keys below it were never ours, so no earlier key was ever used */
  firstIteration: number;
  signingPublicKey: Uint8Array;
  skipped: { iteration: number; messageKey: Uint8Array }[];
  /** Iterations whose keys were discarded unused (beyond the skipped-key cap); chain is always empty here. */
  discarded: DiscardedRange[];
}

/** A sender key is one chain, so its discarded ranges name no chain. */
const ONE_CHAIN = new Uint8Array(0);
const byIteration = <T extends { iteration: number }>(entries: T[]) => entries.map((e) => ({ ...e, index: e.iteration }));
const stripIndex = <T extends { index: number }>(entries: T[]) => entries.map(({ index: _index, ...rest }) => rest);

/** A new sender key for the channel; `replacing` (the current key, if any) is kept as a retired key. */
export function createOutboundSenderKey(channelId: string, now: number, replacing: OutboundSenderKey | null = null): OutboundSenderKey {
  idField.parse(channelId, 'channelId');
  const chainKey = randomKey();
  const retired = replacing
    ? [{ keyId: replacing.keyId, initialChainKey: replacing.initialChainKey, signingPublicKey: replacing.signing.publicKey, endIteration: replacing.iteration }, ...replacing.retired].slice(0, RETIRED_SENDER_KEYS_KEPT)
    : [];
  return { channelId, keyId: randomUint32(), chainKey, iteration: 0, signing: newSigningKeyPair(), initialChainKey: chainKey, createdAt: now, retired };
}

/** What a member device receives (inside a pairwise session): the chain at the current iteration. */
export function senderKeyDistribution(state: OutboundSenderKey): SenderKeyDistribution {
  return { channelId: state.channelId, keyId: state.keyId, iteration: state.iteration, chainKey: state.chainKey, signingPublicKey: state.signing.publicKey };
}

/**
 * Answers a "sender-key-request" for key `keyId` (the current one or a recently retired one) from a device that was
 * given it at `entitledFrom` (the sender records that iteration when it distributes): the chain from that
 * iteration, never earlier, so a late joiner cannot use a request to read messages from before it joined.
 * MISSING_SENDER_KEY if the key is no longer kept.
 */
export function redistributeSenderKey(state: OutboundSenderKey, keyId: number, entitledFrom: number): SenderKeyDistribution {
  const key = keyId === state.keyId
    ? { initialChainKey: state.initialChainKey, signingPublicKey: state.signing.publicKey, endIteration: state.iteration }
    : state.retired.find((k) => k.keyId === keyId);
  if (!key) fail('MISSING_SENDER_KEY', 'that sender key is no longer kept; the requester gets the current one with the next distribution', { channelId: state.channelId, keyId });
  if (!Number.isSafeInteger(entitledFrom) || entitledFrom < 0 || entitledFrom > key.endIteration) fail('INVALID_ARGUMENT', 'entitlement iteration out of range');
  let chainKey = key.initialChainKey;
  for (let i = 0; i < entitledFrom; i++) chainKey = kdfChain(chainKey).chainKey;
  return { channelId: state.channelId, keyId, iteration: entitledFrom, chainKey, signingPublicKey: key.signingPublicKey };
}

/**
 * Checks one Ed25519 signature. The default is libsodium's verify; a caller may pass one that looks up a result it
 * computed earlier (on another thread) for these exact bytes, and must fall back to verifying when it has none.
 */
export type SignatureCheck = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;

/** A channel message's associated data is framed(these parts); its signature covers framed(these parts, ciphertext). */
function channelMessageParts(channelId: string, from: DeviceAddress, keyId: number, iteration: number): (Uint8Array | string)[] {
  return [LABEL.channelMessage, channelId, from.userId, from.deviceId, uint32Bytes(keyId), uint32Bytes(iteration)];
}

/** What a channel message's signature covers: framed(label, channel, sender, key id, iteration, ciphertext). */
export function channelSignedBytes(e: Omit<ChannelEnvelope, 'signature'>): Uint8Array {
  // its own memory, not the pool: the engine keeps these and posts them to the verifier thread
  return framed(...channelMessageParts(e.channelId, e.from, e.keyId, e.iteration), e.ciphertext);
}

/**
 * One buffer holding the signed bytes, with the ciphertext's slot at the end and the associated data as a view of
 * their start: the AD is framed(label, channel, sender, key id, iteration), and framed(...parts, ciphertext) is that
 * followed by framed(ciphertext). Short-lived (signed or verified, then dropped), so from the buffer pool; every
 * byte is written, the ciphertext slot by the caller.
 */
function channelMessageBytes(channelId: string, from: DeviceAddress, keyId: number, iteration: number, ciphertextLength: number) {
  const parts = framedParts(channelMessageParts(channelId, from, keyId, iteration));
  const adLength = framedLength(parts);
  const signed = allocBytes(adLength + 4 + ciphertextLength);
  writeFramed(signed, 0, parts);
  signed.set(uint32Bytes(ciphertextLength), adLength);
  return { signed, ad: signed.subarray(0, adLength), ciphertext: signed.subarray(adLength + 4) };
}

export function senderKeyEncrypt(state: OutboundSenderKey, from: DeviceAddress, plaintext: Uint8Array): { state: OutboundSenderKey; envelope: ChannelEnvelope } {
  if (state.iteration >= UINT32_MAX) fail('INVALID_ARGUMENT', 'sender key exhausted; rotate');
  const { messageKey, chainKey } = kdfChain(state.chainKey);
  const { key, nonce } = messageKeys(messageKey, LABEL.senderKeyMessage);
  // the ciphertext is encrypted straight into its place in the signed bytes: one buffer, no copy
  const { signed, ad, ciphertext } = channelMessageBytes(state.channelId, from, state.keyId, state.iteration, plaintext.length + AEAD_TAG_BYTES);
  aeadEncryptInto(ciphertext, key, nonce, plaintext, ad);
  const signature = sign(signed, state.signing.secretKey);
  const envelope = { kind: 'channel' as const, channelId: state.channelId, from, keyId: state.keyId, iteration: state.iteration, ciphertext, signature };
  return { state: { ...state, chainKey, iteration: state.iteration + 1 }, envelope };
}

/**
 * Installs a distribution received from `sender` over a pairwise session. A second distribution for the same key
 * (an answer to our request) only adds keys below the earliest iteration we ever held; it can never hand back a
 * key we already used, so it cannot make a message decrypt twice.
 */
export function installSenderKey(existing: InboundSenderKey | null, sender: DeviceAddress, d: SenderKeyDistribution): InboundSenderKey {
  if (!existing) {
    return {
      channelId: d.channelId, sender, keyId: d.keyId, chainKey: d.chainKey, iteration: d.iteration, firstIteration: d.iteration,
      signingPublicKey: d.signingPublicKey, skipped: [], discarded: [],
    };
  }
  if (existing.keyId !== d.keyId || existing.channelId !== d.channelId) fail('INVALID_ARGUMENT', 'distribution is for another sender key');
  if (d.iteration >= existing.firstIteration) return existing;
  if (existing.firstIteration - d.iteration > LIMITS.maxSkip) fail('TOO_MANY_SKIPPED', 'redistribution reaches too far back');
  const earlier: InboundSenderKey['skipped'] = [];
  let chainKey = d.chainKey;
  for (let i = d.iteration; i < existing.firstIteration; i++) {
    const step = kdfChain(chainKey);
    earlier.push({ iteration: i, messageKey: step.messageKey });
    chainKey = step.chainKey;
  }
  const { kept, discarded } = keepNewest(byIteration([...earlier, ...existing.skipped]), LIMITS.skippedKeys, () => ONE_CHAIN);
  return { ...existing, firstIteration: d.iteration, skipped: stripIndex(kept), discarded: addDiscarded(existing.discarded, discarded) };
}

export function senderKeyDecrypt(state: InboundSenderKey, envelope: ChannelEnvelope, checkSignature: SignatureCheck = verify): { state: InboundSenderKey; plaintext: Uint8Array } {
  if (envelope.channelId !== state.channelId || envelope.keyId !== state.keyId || envelope.from.userId !== state.sender.userId || envelope.from.deviceId !== state.sender.deviceId) {
    fail('WRONG_RECIPIENT', 'channel message does not belong to this sender key');
  }
  const n = envelope.iteration;
  const { signed, ad, ciphertext: slot } = channelMessageBytes(envelope.channelId, envelope.from, envelope.keyId, n, envelope.ciphertext.length);
  slot.set(envelope.ciphertext);
  if (!checkSignature(envelope.signature, signed, state.signingPublicKey)) fail('BAD_SIGNATURE', 'channel message signature does not verify');
  let messageKey: Uint8Array;
  let next: InboundSenderKey;
  if (n < state.firstIteration) fail('WRONG_RECIPIENT', 'channel message was sent before this device was given the sender key', { iteration: n });
  if (n < state.iteration) {
    const at = state.skipped.findIndex((s) => s.iteration === n);
    if (at < 0 && isDiscarded(state.discarded, ONE_CHAIN, n)) {
      fail('KEY_DISCARDED', 'channel message arrived after its key was discarded (too many later messages came first); it cannot be read', { iteration: n });
    }
    if (at < 0) fail('DUPLICATE', 'channel message already decrypted', { iteration: n });
    messageKey = state.skipped[at]!.messageKey;
    next = { ...state, skipped: state.skipped.filter((_, i) => i !== at) };
  } else {
    if (n - state.iteration > LIMITS.maxSkip) fail('TOO_MANY_SKIPPED', 'channel message jumps too far ahead', { jump: n - state.iteration, limit: LIMITS.maxSkip });
    const newlySkipped: InboundSenderKey['skipped'] = [];
    // only the newest LIMITS.skippedKeys can survive the cap; older ones are recorded as discarded, not kept
    const firstKept = Math.max(state.iteration, n - LIMITS.skippedKeys);
    let chainKey = state.chainKey;
    for (let i = state.iteration; i < n; i++) {
      const step = kdfChain(chainKey);
      if (i >= firstKept) newlySkipped.push({ iteration: i, messageKey: step.messageKey });
      chainKey = step.chainKey;
    }
    const step = kdfChain(chainKey);
    messageKey = step.messageKey;
    const { kept, discarded } = newlySkipped.length === 0
      ? { kept: byIteration(state.skipped), discarded: [] }
      : keepNewest(byIteration([...state.skipped, ...newlySkipped]), LIMITS.skippedKeys, () => ONE_CHAIN);
    const jumped = firstKept > state.iteration ? [{ chain: ONE_CHAIN, from: state.iteration, to: firstKept }] : [];
    next = { ...state, chainKey: step.chainKey, iteration: n + 1, skipped: stripIndex(kept), discarded: addDiscarded(state.discarded, [...jumped, ...discarded]) };
  }
  const { key, nonce } = messageKeys(messageKey, LABEL.senderKeyMessage);
  try {
    const plaintext = aeadDecrypt(key, nonce, envelope.ciphertext, ad);
    return { state: next, plaintext };
  } catch (error) {
    if (error instanceof CryptoError) fail('DECRYPT_FAILED', 'channel message did not authenticate');
    throw error;
  }
}

// ---------------------------------------------------------------- rotation policy (pure)

export type RotationReason = 'no-key' | 'member-left' | 'message-count' | 'age';

export interface RotationPolicy {
  maxMessages: number;
  maxAgeMs: number;
}

/**
 * Decides whether the sender must start a new sender key before its next message. `membersLeft` is true when a
 * member or one of a member's devices left or was removed since the key was made. Joins never force rotation.
 */
export function senderKeyRotationReason(state: OutboundSenderKey | null, now: number, membersLeft: boolean, policy: RotationPolicy = SENDER_KEY_ROTATION): RotationReason | null {
  if (!state) return 'no-key';
  if (membersLeft) return 'member-left';
  if (state.iteration >= policy.maxMessages) return 'message-count';
  if (now - state.createdAt >= policy.maxAgeMs) return 'age';
  return null;
}

// ---------------------------------------------------------------- persistence

const key32 = bytes(32);
const outboundSchema = struct({
  v: uint(), channelId: idField, keyId: uint(UINT32_MAX), chainKey: key32, iteration: uint(UINT32_MAX),
  signSecret: bytes(64), initialChainKey: key32, createdAt: uint(),
  retired: list(struct({ keyId: uint(UINT32_MAX), initialChainKey: key32, signingPublicKey: key32, endIteration: uint(UINT32_MAX) }), RETIRED_SENDER_KEYS_KEPT),
});
const inboundSchema = struct({
  v: uint(), channelId: idField, sender: struct({ userId: idField, deviceId: idField }), keyId: uint(UINT32_MAX), chainKey: key32,
  iteration: uint(UINT32_MAX), firstIteration: uint(UINT32_MAX), signingPublicKey: key32,
  skipped: list(struct({ iteration: uint(UINT32_MAX), messageKey: key32 }), LIMITS.skippedKeys),
  discarded: discardedRangeSchema,
});

export function serializeOutboundSenderKey(s: OutboundSenderKey): Uint8Array {
  const { signing, ...rest } = s;
  return encodeCbor({ v: 1, ...rest, signSecret: signing.secretKey });
}

export function deserializeOutboundSenderKey(blob: Uint8Array): OutboundSenderKey {
  const { v: _v, signSecret, ...rest } = decodeVersioned(blob, outboundSchema, { maxBytes: 4096, versions: [1], what: 'outbound sender key' });
  // libsodium's Ed25519 secret key is seed || public key; keeping all 64 bytes avoids re-deriving on every message
  return { ...rest, signing: { publicKey: signSecret.slice(32), secretKey: signSecret } };
}

export function serializeInboundSenderKey(s: InboundSenderKey): Uint8Array {
  return encodeCbor({ v: 1, ...s });
}

export function deserializeInboundSenderKey(blob: Uint8Array): InboundSenderKey {
  const { v: _v, ...rest } = decodeVersioned(blob, inboundSchema, { maxBytes: LIMITS.stateBytes, versions: [1], what: 'inbound sender key' });
  return rest;
}
