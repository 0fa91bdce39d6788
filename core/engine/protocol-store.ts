// The protocol's state, kept in the vault. The protocol functions read through a synchronous ProtocolStore and
// return writes; the engine commits those writes in the SAME vault transaction as the messages they produced or
// consumed, and only then applies them to the in-memory copy. So a crash keeps both or neither: no lost ratchet
// step, no message decrypted twice.
//
// Reads are served from a MemoryProtocolStore loaded at unlock (the protocol needs synchronous reads, and the
// vault answers from a worker thread). Rows live in the vault's kv table under a `p:` namespace.
import { fromHex, toHex } from '../crypto/sodium.ts';
import { deserializeDeviceIdentity, deserializeKnownAccount, serializeDeviceIdentity, type DeviceIdentity } from '../protocol/identity.ts';
import { deserializePrekeyState, serializePrekeyState, type PrekeyState } from '../protocol/prekeys.ts';
import { deserializeInboundSenderKey, deserializeOutboundSenderKey } from '../protocol/sender-keys.ts';
import { deserializeSessionRecord } from '../protocol/session.ts';
import { MemoryProtocolStore, serializedState, type ProtocolStore, type ProtocolWrite } from '../protocol/store.ts';
import type { DeviceAddress } from '../protocol/wire.ts';
import type { SqlExecutor, Statement } from '../vault/index.ts';

const PREFIX = 'p:';
// A separator no id can contain (ids are text without control characters), so keys split unambiguously.
const SEP = '\u0001';
const key = (...parts: (string | number)[]) => PREFIX + parts.join(SEP);
const upsert = (k: string, value: Uint8Array): Statement => ({ sql: 'INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)', params: [k, value] });

/** Big-endian, so SQLite's byte-wise BLOB comparison orders the values as numbers. */
function uint64Bytes(value: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}

/**
 * The vault rows a batch of protocol writes becomes. A seen message id is stored with the time it was seen, so old
 * ids can be dropped (pruneSeenStatement): replaying an old frame fails anyway once its ratchet or sender-key step
 * and its signed prekey are gone.
 */
export function protocolStatements(writes: readonly ProtocolWrite[], now = Date.now()): Statement[] {
  return writes.map((w): Statement => {
    switch (w.kind) {
      case 'prekeys':
        return upsert(key('prekeys'), serializedState(w));
      case 'session':
        return upsert(key('session', w.peer.userId, w.peer.deviceId), serializedState(w));
      case 'known-account':
        return upsert(key('known', w.entry.userId), serializedState(w));
      case 'outbound-sender-key':
        return upsert(key('outbound', w.state.channelId), serializedState(w));
      case 'sender-key-share':
        return upsert(key('share', w.channelId, w.keyId, w.device.userId, w.device.deviceId), uint64Bytes(w.iteration));
      case 'inbound-sender-key':
        return upsert(key('inbound', w.state.channelId, w.state.sender.userId, w.state.sender.deviceId, w.state.keyId), serializedState(w));
      case 'seen':
        return upsert(key('seen', w.senderUserId, toHex(w.messageId)), uint64Bytes(now));
    }
  });
}

/** Forgets message ids seen before `before` (ms); run before the store is loaded, so they never reach memory. */
export function pruneSeenStatement(before: number): Statement {
  return { sql: 'DELETE FROM kv WHERE key >= ? AND key < ? AND value < ?', params: [key('seen') + SEP, key('seen') + '\u0002', uint64Bytes(before)] };
}

/** Statements that store a brand-new device's identity and prekeys (at enrolment). */
export function initialProtocolStatements(device: DeviceIdentity, prekeys: PrekeyState): Statement[] {
  return [upsert(key('device'), serializeDeviceIdentity(device)), upsert(key('prekeys'), serializePrekeyState(prekeys))];
}

/** Rebuilds one stored row as the write that produced it, so loading reuses the in-memory store's own commit. */
function rowToWrite(parts: string[], value: Uint8Array): ProtocolWrite | null {
  const [kind, ...rest] = parts;
  const peer = (userId: string, deviceId: string): DeviceAddress => ({ userId, deviceId });
  switch (kind) {
    case 'session':
      return { kind: 'session', peer: peer(rest[0]!, rest[1]!), record: deserializeSessionRecord(value) };
    case 'known':
      return { kind: 'known-account', entry: deserializeKnownAccount(value) };
    case 'outbound':
      return { kind: 'outbound-sender-key', state: deserializeOutboundSenderKey(value) };
    case 'share':
      return {
        kind: 'sender-key-share', channelId: rest[0]!, keyId: Number(rest[1]), device: peer(rest[2]!, rest[3]!),
        iteration: Number(new DataView(value.buffer, value.byteOffset, 8).getBigUint64(0)),
      };
    case 'inbound':
      return { kind: 'inbound-sender-key', state: deserializeInboundSenderKey(value) };
    case 'seen':
      return { kind: 'seen', senderUserId: rest[0]!, messageId: fromHex(rest[1]!) };
    default:
      return null; // 'device' and 'prekeys' seed the store's constructor
  }
}

/**
 * A ProtocolStore whose reads come from memory and whose writes are turned into vault statements by the caller.
 * `commit` is called only after the vault transaction holding those statements has committed.
 */
export class VaultProtocolStore implements ProtocolStore {
  readonly #memory: MemoryProtocolStore;

  private constructor(memory: MemoryProtocolStore) {
    this.#memory = memory;
  }

  static async load(vault: SqlExecutor): Promise<VaultProtocolStore> {
    const rows = await vault.all<{ key: string; value: Uint8Array }>('SELECT key, value FROM kv WHERE key >= ? AND key < ?', [PREFIX, 'p;']);
    const byKey = new Map(rows.map((r) => [r.key, r.value]));
    const device = byKey.get(key('device'));
    const prekeys = byKey.get(key('prekeys'));
    if (!device || !prekeys) throw new Error('this vault holds no device identity: the profile was never enrolled');
    const memory = new MemoryProtocolStore(deserializeDeviceIdentity(device), deserializePrekeyState(prekeys));
    const writes: ProtocolWrite[] = [];
    for (const row of rows) {
      const write = rowToWrite(row.key.slice(PREFIX.length).split(SEP), row.value);
      if (write) writes.push(write);
    }
    memory.commit(writes);
    return new VaultProtocolStore(memory);
  }

  device() {
    return this.#memory.device();
  }
  prekeys() {
    return this.#memory.prekeys();
  }
  knownAccount(userId: string) {
    return this.#memory.knownAccount(userId);
  }
  sessionRecord(peer: DeviceAddress) {
    return this.#memory.sessionRecord(peer);
  }
  outboundSenderKey(channelId: string) {
    return this.#memory.outboundSenderKey(channelId);
  }
  senderKeyShare(channelId: string, keyId: number, device: DeviceAddress) {
    return this.#memory.senderKeyShare(channelId, keyId, device);
  }
  inboundSenderKey(channelId: string, sender: DeviceAddress, keyId: number) {
    return this.#memory.inboundSenderKey(channelId, sender, keyId);
  }
  hasSeen(senderUserId: string, messageId: Uint8Array) {
    return this.#memory.hasSeen(senderUserId, messageId);
  }
  /** Applies writes to memory; call only after the vault transaction with protocolStatements(writes) committed. */
  commit(writes: readonly ProtocolWrite[]): void {
    this.#memory.commit(writes);
  }
}
