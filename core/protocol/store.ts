// Where protocol state lives between messages. The protocol functions never write anything themselves: they read
// through ProtocolStore and return a list of ProtocolWrite records. The engine commits those writes in the SAME
// vault transaction as the decrypted message (or the queued outgoing frames), so a crash either keeps both or
// neither: it can neither lose ratchet state nor decrypt a message twice.
//
// MemoryProtocolStore below is a real implementation of the interface (it stores the same serialized, versioned
// blobs the vault will), used by the tests and benchmarks; it is not a mock. The client engine implements
// ProtocolStore over the SQLCipher vault.
import { toHex } from '../crypto/sodium.ts';
import { deserializeDeviceIdentity, deserializeKnownAccount, serializeDeviceIdentity, serializeKnownAccount, type DeviceIdentity, type KnownAccount } from './identity.ts';
import { deserializePrekeyState, serializePrekeyState, type PrekeyState } from './prekeys.ts';
import {
  deserializeInboundSenderKey, deserializeOutboundSenderKey, serializeInboundSenderKey, serializeOutboundSenderKey,
  type InboundSenderKey, type OutboundSenderKey,
} from './sender-keys.ts';
import { deserializeSessionRecord, serializeSessionRecord, type SessionRecord } from './session.ts';
import type { DeviceAddress } from './wire.ts';

export type ProtocolWrite =
  | { kind: 'prekeys'; state: PrekeyState }
  | { kind: 'session'; peer: DeviceAddress; record: SessionRecord }
  | { kind: 'known-account'; entry: KnownAccount }
  | { kind: 'outbound-sender-key'; state: OutboundSenderKey }
  /** The sender gave `device` its key `keyId` starting at `iteration` (the earliest it may ever be re-sent). */
  | { kind: 'sender-key-share'; channelId: string; keyId: number; device: DeviceAddress; iteration: number }
  | { kind: 'inbound-sender-key'; state: InboundSenderKey }
  /** A payload id from a sender user, recorded so the same message is never delivered twice. */
  | { kind: 'seen'; senderUserId: string; messageId: Uint8Array };

export interface ProtocolStore {
  device(): DeviceIdentity;
  prekeys(): PrekeyState;
  knownAccount(userId: string): KnownAccount | null;
  sessionRecord(peer: DeviceAddress): SessionRecord | null;
  outboundSenderKey(channelId: string): OutboundSenderKey | null;
  senderKeyShare(channelId: string, keyId: number, device: DeviceAddress): number | null;
  inboundSenderKey(channelId: string, sender: DeviceAddress, keyId: number): InboundSenderKey | null;
  hasSeen(senderUserId: string, messageId: Uint8Array): boolean;
  /** Applies all writes atomically. */
  commit(writes: readonly ProtocolWrite[]): void;
}

const addr = (a: DeviceAddress) => JSON.stringify([a.userId, a.deviceId]);

/** Which piece of state a write replaces whole; null for writes that add an entry (shares, seen ids). */
function stateKey(w: ProtocolWrite): string | null {
  switch (w.kind) {
    case 'prekeys': return 'prekeys';
    case 'session': return `session ${addr(w.peer)}`;
    case 'known-account': return `known ${w.entry.userId}`;
    case 'outbound-sender-key': return `outbound ${w.state.channelId}`;
    case 'inbound-sender-key': return `inbound ${JSON.stringify([w.state.channelId, addr(w.state.sender), w.state.keyId])}`;
    case 'sender-key-share':
    case 'seen':
      return null;
  }
}

/** A write that replaces a piece of state whole (every kind but shares and seen ids, which add an entry). */
export type StateWrite = Exclude<ProtocolWrite, { kind: 'sender-key-share' | 'seen' }>;

const encodedStates = new WeakMap<StateWrite, Uint8Array>();

/**
 * The stored bytes of a state write, encoded at most once per write. The engine turns a batch's writes into vault
 * rows and then commits the same write objects to memory, which keeps the same bytes: each state is encoded once for
 * both, not twice (for a live channel message that was a tenth of its receive cost). A write is a value nobody
 * changes, so its bytes cannot go stale; they are never changed either, only decoded (into copies) or stored.
 */
export function serializedState(w: StateWrite): Uint8Array {
  let blob = encodedStates.get(w);
  if (!blob) {
    blob = serializeState(w);
    encodedStates.set(w, blob);
  }
  return blob;
}

function serializeState(w: StateWrite): Uint8Array {
  switch (w.kind) {
    case 'prekeys': return serializePrekeyState(w.state);
    case 'session': return serializeSessionRecord(w.record);
    case 'known-account': return serializeKnownAccount(w.entry);
    case 'outbound-sender-key': return serializeOutboundSenderKey(w.state);
    case 'inbound-sender-key': return serializeInboundSenderKey(w.state);
  }
}

export class MemoryProtocolStore implements ProtocolStore {
  /** Kept decoded: it never changes, and re-deriving its key pairs on every message would dominate the cost. */
  #device: DeviceIdentity;
  #prekeys: Uint8Array;
  #known = new Map<string, Uint8Array>();
  #sessions = new Map<string, Uint8Array>();
  #outbound = new Map<string, Uint8Array>();
  #shares = new Map<string, number>();
  #inbound = new Map<string, Uint8Array>();
  #seen = new Set<string>();

  constructor(device: DeviceIdentity, prekeys: PrekeyState) {
    this.#device = deserializeDeviceIdentity(serializeDeviceIdentity(device));
    this.#prekeys = serializePrekeyState(prekeys);
  }

  device(): DeviceIdentity {
    return this.#device;
  }
  prekeys(): PrekeyState {
    return deserializePrekeyState(this.#prekeys);
  }
  knownAccount(userId: string): KnownAccount | null {
    const blob = this.#known.get(userId);
    return blob ? deserializeKnownAccount(blob) : null;
  }
  sessionRecord(peer: DeviceAddress): SessionRecord | null {
    const blob = this.#sessions.get(addr(peer));
    return blob ? deserializeSessionRecord(blob) : null;
  }
  outboundSenderKey(channelId: string): OutboundSenderKey | null {
    const blob = this.#outbound.get(channelId);
    return blob ? deserializeOutboundSenderKey(blob) : null;
  }
  senderKeyShare(channelId: string, keyId: number, device: DeviceAddress): number | null {
    return this.#shares.get(JSON.stringify([channelId, keyId, addr(device)])) ?? null;
  }
  inboundSenderKey(channelId: string, sender: DeviceAddress, keyId: number): InboundSenderKey | null {
    const blob = this.#inbound.get(JSON.stringify([channelId, addr(sender), keyId]));
    return blob ? deserializeInboundSenderKey(blob) : null;
  }
  hasSeen(senderUserId: string, messageId: Uint8Array): boolean {
    return this.#seen.has(`${senderUserId}\u0000${toHex(messageId)}`);
  }

  commit(writes: readonly ProtocolWrite[]): void {
    // serialize everything first: if any write is invalid, nothing is applied
    const apply = writes.map((w): (() => void) => {
      switch (w.kind) {
        case 'prekeys': { const blob = serializedState(w); return () => { this.#prekeys = blob; }; }
        case 'session': { const blob = serializedState(w); return () => this.#sessions.set(addr(w.peer), blob); }
        case 'known-account': { const blob = serializedState(w); return () => this.#known.set(w.entry.userId, blob); }
        case 'outbound-sender-key': { const blob = serializedState(w); return () => this.#outbound.set(w.state.channelId, blob); }
        case 'sender-key-share': return () => this.#shares.set(JSON.stringify([w.channelId, w.keyId, addr(w.device)]), w.iteration);
        case 'inbound-sender-key': {
          const blob = serializedState(w);
          return () => this.#inbound.set(JSON.stringify([w.state.channelId, addr(w.state.sender), w.state.keyId]), blob);
        }
        case 'seen': return () => this.#seen.add(`${w.senderUserId}\u0000${toHex(w.messageId)}`);
      }
    });
    for (const run of apply) run();
  }
}

/**
 * Decrypting an inbound batch in ONE vault transaction (one fsync for hundreds of queued messages, DESIGN.md
 * section 3): wrap the engine's store in a StagedProtocolStore, run decryptFrame for each frame and `commit` its
 * writes here (they become visible to the next frame's reads, nothing reaches the vault), then hand `takeWrites()`
 * to the vault transaction together with all the messages. A frame that throws adds nothing.
 */
export class StagedProtocolStore implements ProtocolStore {
  readonly #base: ProtocolStore;
  #writes: ProtocolWrite[] = [];
  #prekeys: PrekeyState | null = null;
  #known = new Map<string, KnownAccount>();
  #sessions = new Map<string, SessionRecord>();
  #outbound = new Map<string, OutboundSenderKey>();
  #shares = new Map<string, number>();
  #inbound = new Map<string, InboundSenderKey>();
  #seen = new Set<string>();

  constructor(base: ProtocolStore) {
    this.#base = base;
  }

  device(): DeviceIdentity {
    return this.#base.device();
  }
  prekeys(): PrekeyState {
    return this.#prekeys ?? this.#base.prekeys();
  }
  knownAccount(userId: string): KnownAccount | null {
    return this.#known.get(userId) ?? this.#base.knownAccount(userId);
  }
  sessionRecord(peer: DeviceAddress): SessionRecord | null {
    return this.#sessions.get(addr(peer)) ?? this.#base.sessionRecord(peer);
  }
  outboundSenderKey(channelId: string): OutboundSenderKey | null {
    return this.#outbound.get(channelId) ?? this.#base.outboundSenderKey(channelId);
  }
  senderKeyShare(channelId: string, keyId: number, device: DeviceAddress): number | null {
    return this.#shares.get(JSON.stringify([channelId, keyId, addr(device)])) ?? this.#base.senderKeyShare(channelId, keyId, device);
  }
  inboundSenderKey(channelId: string, sender: DeviceAddress, keyId: number): InboundSenderKey | null {
    return this.#inbound.get(JSON.stringify([channelId, addr(sender), keyId])) ?? this.#base.inboundSenderKey(channelId, sender, keyId);
  }
  hasSeen(senderUserId: string, messageId: Uint8Array): boolean {
    return this.#seen.has(`${senderUserId}\u0000${toHex(messageId)}`) || this.#base.hasSeen(senderUserId, messageId);
  }

  /** Stages writes: visible to later reads through this store, not yet written to the base store. */
  commit(writes: readonly ProtocolWrite[]): void {
    for (const w of writes) {
      switch (w.kind) {
        case 'prekeys': this.#prekeys = w.state; break;
        case 'session': this.#sessions.set(addr(w.peer), w.record); break;
        case 'known-account': this.#known.set(w.entry.userId, w.entry); break;
        case 'outbound-sender-key': this.#outbound.set(w.state.channelId, w.state); break;
        case 'sender-key-share': this.#shares.set(JSON.stringify([w.channelId, w.keyId, addr(w.device)]), w.iteration); break;
        case 'inbound-sender-key': this.#inbound.set(JSON.stringify([w.state.channelId, addr(w.state.sender), w.state.keyId]), w.state); break;
        case 'seen': this.#seen.add(`${w.senderUserId}\u0000${toHex(w.messageId)}`); break;
      }
    }
    this.#writes.push(...writes);
  }

  /**
   * The staged writes to commit: for each piece of state (a session, a sender key, the prekeys...) only its last
   * write, since each write is a whole snapshot; shares and seen ids are all kept. A batch of 500 messages on one
   * channel becomes one sender-key write instead of 500.
   */
  takeWrites(): ProtocolWrite[] {
    const writes = this.#writes;
    this.#writes = [];
    const keys = writes.map(stateKey);
    const last = new Map<string, number>();
    keys.forEach((key, i) => {
      if (key !== null) last.set(key, i);
    });
    return writes.filter((_, i) => keys[i] === null || last.get(keys[i]!) === i);
  }
}
