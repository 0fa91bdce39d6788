// The Double Ratchet (Signal's specification, revision 4), as pure state transitions: the input state is never
// mutated, so a decryption that throws leaves the caller's state exactly as it was, and the caller persists the
// returned state in the same vault transaction as the message it decrypted.
//
// KDF_RK: HKDF-SHA256(ikm = DH output, salt = root key, info = "Wardroom DR root v1") -> 32-byte root key || chain key.
// KDF_CK: message key = HMAC-SHA256(chain key, 0x01), next chain key = HMAC-SHA256(chain key, 0x02).
// Per message: HKDF-Expand-SHA256(message key, info = "Wardroom DR message keys v1") -> 32-byte AEAD key || 24-byte
// nonce (Expand only: a message key is already a uniform 32-byte key, RFC 5869 section 3.3);
// XChaCha20-Poly1305 with associated data = session AD || header. A message key encrypts exactly one message, so
// the derived nonce never repeats under a key.
//
// Superseded keys are not wiped here: the previous state object is the caller's rollback copy and may still be
// in use. The persisted blob is overwritten on commit; see docs/protocol.md ("what is not protected").
import { aeadDecrypt, aeadEncrypt, constantTimeEqual, CryptoError, dh, hkdfExpandSha256, hkdfSha256, hmacSha256, type DhKeyPair } from '../crypto/sodium.ts';
import { newDhKeyPair as dhKeyPair } from './random.ts';
import { bytes, framed, list, nullable, struct, uint, uint32Bytes, UINT32_MAX } from './codec.ts';
import { fail } from './errors.ts';
import { LABEL } from './labels.ts';
import { LIMITS } from './limits.ts';
import { addDiscarded, discardedRangeSchema, isDiscarded, keepNewest, type DiscardedRange } from './discarded.ts';

export interface ChainState {
  key: Uint8Array;
  /** index of the next message key this chain will produce */
  index: number;
}

export interface SkippedKey {
  ratchetKey: Uint8Array;
  index: number;
  messageKey: Uint8Array;
}

export interface RatchetState {
  rootKey: Uint8Array;
  selfRatchet: DhKeyPair;
  remoteRatchetKey: Uint8Array | null;
  sending: ChainState | null;
  receiving: ChainState | null;
  previousSendingLength: number;
  /** Keys of messages not yet received, oldest first, at most LIMITS.skippedKeys. */
  skipped: SkippedKey[];
  /** Remote ratchet keys we have moved past (a few): a message under one with no skipped key is a duplicate. */
  retiredRemoteKeys: Uint8Array[];
  /** Message numbers whose keys were discarded unused (beyond the skipped-key cap). */
  discarded: DiscardedRange[];
}

export interface RatchetHeader {
  ratchetKey: Uint8Array;
  previousLength: number;
  index: number;
}

export interface RatchetMessage {
  header: RatchetHeader;
  ciphertext: Uint8Array;
}

const RETIRED_KEYS_KEPT = 8;
const ONE = Uint8Array.of(1);
const TWO = Uint8Array.of(2);

/** X25519 on a key that came off the wire: a low-order point is an undecryptable message, not a crash. */
export function wireDh(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  try {
    return dh(secretKey, publicKey);
  } catch (error) {
    if (error instanceof CryptoError) fail('DECRYPT_FAILED', 'a public key in the message is invalid');
    throw error;
  }
}

function kdfRoot(rootKey: Uint8Array, dhOutput: Uint8Array): { rootKey: Uint8Array; chainKey: Uint8Array } {
  const out = hkdfSha256(dhOutput, rootKey, LABEL.ratchetRoot, 64);
  return { rootKey: out.slice(0, 32), chainKey: out.slice(32) };
}

export function kdfChain(chainKey: Uint8Array): { messageKey: Uint8Array; chainKey: Uint8Array } {
  return { messageKey: hmacSha256(chainKey, ONE), chainKey: hmacSha256(chainKey, TWO) };
}

export function messageKeys(messageKey: Uint8Array, label: string): { key: Uint8Array; nonce: Uint8Array } {
  const out = hkdfExpandSha256(messageKey, label, 56);
  return { key: out.subarray(0, 32), nonce: out.subarray(32) };
}

function headerAd(ad: Uint8Array, header: RatchetHeader): Uint8Array {
  return framed(ad, header.ratchetKey, uint32Bytes(header.previousLength), uint32Bytes(header.index));
}

/** Initiator side (Alice): the responder's signed prekey is its first ratchet public key. */
export function initInitiator(sharedSecret: Uint8Array, remoteRatchetKey: Uint8Array): RatchetState {
  const selfRatchet = dhKeyPair();
  const { rootKey, chainKey } = kdfRoot(sharedSecret, wireDh(selfRatchet.secretKey, remoteRatchetKey));
  return {
    rootKey, selfRatchet, remoteRatchetKey, sending: { key: chainKey, index: 0 }, receiving: null,
    previousSendingLength: 0, skipped: [], retiredRemoteKeys: [], discarded: [],
  };
}

/** Responder side (Bob): starts from its signed prekey pair and can send only after the first message arrives. */
export function initResponder(sharedSecret: Uint8Array, signedPrekey: DhKeyPair): RatchetState {
  return {
    rootKey: sharedSecret, selfRatchet: signedPrekey, remoteRatchetKey: null, sending: null, receiving: null,
    previousSendingLength: 0, skipped: [], retiredRemoteKeys: [], discarded: [],
  };
}

export function ratchetEncrypt(state: RatchetState, plaintext: Uint8Array, ad: Uint8Array): { state: RatchetState; message: RatchetMessage } {
  if (!state.sending) fail('INVALID_ARGUMENT', 'this session cannot send before it has received a message');
  if (state.sending.index >= UINT32_MAX) fail('INVALID_ARGUMENT', 'sending chain exhausted');
  const { messageKey, chainKey } = kdfChain(state.sending.key);
  const header: RatchetHeader = { ratchetKey: state.selfRatchet.publicKey, previousLength: state.previousSendingLength, index: state.sending.index };
  const { key, nonce } = messageKeys(messageKey, LABEL.ratchetMessage);
  const ciphertext = aeadEncrypt(key, nonce, plaintext, headerAd(ad, header));
  return { state: { ...state, sending: { key: chainKey, index: state.sending.index + 1 } }, message: { header, ciphertext } };
}

function open(messageKey: Uint8Array, message: RatchetMessage, ad: Uint8Array): Uint8Array {
  const { key, nonce } = messageKeys(messageKey, LABEL.ratchetMessage);
  try {
    return aeadDecrypt(key, nonce, message.ciphertext, headerAd(ad, message.header));
  } catch (error) {
    if (error instanceof CryptoError) fail('DECRYPT_FAILED', 'pairwise message did not authenticate');
    throw error;
  }
}

/**
 * Derives the keys of messages [chain.index, until) and returns them with the advanced chain. Only the newest
 * LIMITS.skippedKeys can survive the cap, so older ones are not kept even in memory: they come back as discarded.
 */
function skipTo(chain: ChainState, ratchetKey: Uint8Array, until: number): { chain: ChainState; keys: SkippedKey[]; discarded: DiscardedRange[] } {
  const keys: SkippedKey[] = [];
  const firstKept = Math.max(chain.index, until - LIMITS.skippedKeys);
  let current = chain;
  while (current.index < until) {
    const { messageKey, chainKey } = kdfChain(current.key);
    if (current.index >= firstKept) keys.push({ ratchetKey, index: current.index, messageKey });
    current = { key: chainKey, index: current.index + 1 };
  }
  return { chain: current, keys, discarded: firstKept > chain.index ? [{ chain: ratchetKey, from: chain.index, to: firstKept }] : [] };
}

function refuseUsedOrDiscarded(state: RatchetState, header: RatchetHeader): never {
  if (isDiscarded(state.discarded, header.ratchetKey, header.index)) {
    fail('KEY_DISCARDED', 'message arrived after its key was discarded (too many later messages came first); it cannot be read', { index: header.index });
  }
  fail('DUPLICATE', 'message already decrypted', { index: header.index });
}

export function ratchetDecrypt(state: RatchetState, message: RatchetMessage, ad: Uint8Array): { state: RatchetState; plaintext: Uint8Array } {
  const { header } = message;
  const skippedAt = state.skipped.findIndex((s) => s.index === header.index && constantTimeEqual(s.ratchetKey, header.ratchetKey));
  if (skippedAt >= 0) {
    const plaintext = open(state.skipped[skippedAt]!.messageKey, message, ad);
    return { state: { ...state, skipped: state.skipped.filter((_, i) => i !== skippedAt) }, plaintext };
  }

  let next: RatchetState = state;
  let newlySkipped: SkippedKey[] = [];
  let newlyDiscarded: DiscardedRange[] = [];
  const isCurrentChain = state.remoteRatchetKey !== null && constantTimeEqual(header.ratchetKey, state.remoteRatchetKey);
  if (!isCurrentChain) {
    if (state.retiredRemoteKeys.some((k) => constantTimeEqual(k, header.ratchetKey))) refuseUsedOrDiscarded(state, header);
    const remainder = state.receiving ? header.previousLength - state.receiving.index : 0;
    if (remainder + header.index > LIMITS.maxSkip) fail('TOO_MANY_SKIPPED', 'message jumps too far ahead', { jump: remainder + header.index, limit: LIMITS.maxSkip });
    if (state.receiving && state.remoteRatchetKey) {
      const rest = skipTo(state.receiving, state.remoteRatchetKey, header.previousLength);
      newlySkipped = rest.keys;
      newlyDiscarded = rest.discarded;
    }
    const received = kdfRoot(state.rootKey, wireDh(state.selfRatchet.secretKey, header.ratchetKey));
    const selfRatchet = dhKeyPair();
    const sent = kdfRoot(received.rootKey, wireDh(selfRatchet.secretKey, header.ratchetKey));
    next = {
      ...state,
      rootKey: sent.rootKey,
      selfRatchet,
      remoteRatchetKey: header.ratchetKey,
      receiving: { key: received.chainKey, index: 0 },
      sending: { key: sent.chainKey, index: 0 },
      previousSendingLength: state.sending ? state.sending.index : 0,
      retiredRemoteKeys: state.remoteRatchetKey ? [...state.retiredRemoteKeys, state.remoteRatchetKey].slice(-RETIRED_KEYS_KEPT) : state.retiredRemoteKeys,
    };
  }

  const receiving = next.receiving!;
  if (header.index < receiving.index) refuseUsedOrDiscarded(state, header);
  if (header.index - receiving.index > LIMITS.maxSkip) fail('TOO_MANY_SKIPPED', 'message jumps too far ahead', { jump: header.index - receiving.index, limit: LIMITS.maxSkip });
  const skipped = skipTo(receiving, header.ratchetKey, header.index);
  const { messageKey, chainKey } = kdfChain(skipped.chain.key);
  const plaintext = open(messageKey, message, ad);
  newlySkipped = newlySkipped.concat(skipped.keys);
  newlyDiscarded = newlyDiscarded.concat(skipped.discarded);
  const { kept, discarded } = newlySkipped.length === 0
    ? { kept: next.skipped, discarded: [] }
    : keepNewest([...next.skipped, ...newlySkipped], LIMITS.skippedKeys, (k) => k.ratchetKey);
  return {
    state: { ...next, receiving: { key: chainKey, index: header.index + 1 }, skipped: kept, discarded: addDiscarded(next.discarded, [...discarded, ...newlyDiscarded]) },
    plaintext,
  };
}

// ---------------------------------------------------------------- persistence

const key32 = bytes(32);
const chainSchema = nullable(struct({ key: key32, index: uint(UINT32_MAX) }));
export const ratchetStateSchema = struct({
  rootKey: key32,
  selfPublic: key32,
  selfSecret: key32,
  remote: nullable(key32),
  sending: chainSchema,
  receiving: chainSchema,
  pn: uint(UINT32_MAX),
  skipped: list(struct({ rk: key32, n: uint(UINT32_MAX), mk: key32 }), LIMITS.skippedKeys),
  retired: list(key32, RETIRED_KEYS_KEPT),
  discarded: discardedRangeSchema,
});

export function ratchetToPlain(s: RatchetState): unknown {
  return {
    rootKey: s.rootKey, selfPublic: s.selfRatchet.publicKey, selfSecret: s.selfRatchet.secretKey, remote: s.remoteRatchetKey,
    sending: s.sending, receiving: s.receiving, pn: s.previousSendingLength,
    skipped: s.skipped.map((k) => ({ rk: k.ratchetKey, n: k.index, mk: k.messageKey })), retired: s.retiredRemoteKeys, discarded: s.discarded,
  };
}

export function ratchetFromPlain(p: ReturnType<typeof ratchetStateSchema.parse>): RatchetState {
  return {
    rootKey: p.rootKey, selfRatchet: { publicKey: p.selfPublic, secretKey: p.selfSecret }, remoteRatchetKey: p.remote,
    sending: p.sending, receiving: p.receiving, previousSendingLength: p.pn,
    skipped: p.skipped.map((k) => ({ ratchetKey: k.rk, index: k.n, messageKey: k.mk })), retiredRemoteKeys: p.retired, discarded: p.discarded,
  };
}
