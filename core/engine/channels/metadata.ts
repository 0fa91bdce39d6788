// Channel names and topics end to end. The relay holds each as a box sealed under one of the channel's metadata
// keys (core/protocol/channel-meta.ts); this module keeps those keys in the vault, seals what this device writes,
// and decides what this device shows for each channel the relay lists: a value it opened and that is newer than the
// one it holds, or else what it held (a box it cannot open is refused, never shown). A box naming a key this
// device lacks is noted, so key-sharing.ts asks the members for it.
import { ChannelName } from '../../api/contract.ts';
import { blake2b, toBase64Url } from '../../crypto/sodium.ts';
import { openChannelField, readChannelBox, sealChannelField, type ChannelBox, type ChannelField, type ChannelValue } from '../../protocol/channel-meta.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import type { ChannelMetaKey, DeviceAddress } from '../../protocol/wire.ts';
import type { Statement } from '../../vault/index.ts';
import type { EngineContext } from '../context.ts';
import { channelConversationId } from '../conversations/ref.ts';
import type { ChannelRow } from '../history.ts';
import type { Channel } from '../relay-http.ts';

/** Shown for a channel whose name is sealed under a key that has not reached this device yet. */
export const PENDING_NAME = '(name not received yet)';
/** Shown for a channel whose name this device never verified and whose box does not open. */
export const UNREADABLE_NAME = '(unreadable name)';

/** A key that was asked for is asked for again (a member may have been offline) no sooner than this. */
const ASK_AGAIN_MS = 5 * 60_000;

export interface MissingKey {
  channelId: string;
  keyId: number;
  /** the device that sealed the box: the first one asked */
  sealer: DeviceAddress;
}

type Opened = { value: ChannelValue } | { missing: ChannelBox } | { refused: true } | { empty: true };

export class ChannelMetadata {
  readonly #ctx: EngineContext;
  readonly #missing = new Map<string, MissingKey>();
  readonly #askedAt = new Map<string, number>();
  /** boxes already reported as refused (by channel, field and content), so a sync loop does not repeat the event */
  readonly #reported = new Set<string>();
  #onMissing: () => void = () => {};

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
  }

  /** Called when a sync noted a key to ask for (key-sharing.ts asks). */
  whenMissing(listener: () => void): void {
    this.#onMissing = listener;
  }

  /** The metadata keys held for each channel, newest first. */
  async keys(): Promise<Map<string, ChannelMetaKey[]>> {
    const rows = await this.#ctx.vault.all<{ channel_id: string; key_id: number; key: Uint8Array }>('SELECT channel_id, key_id, key FROM channel_keys ORDER BY added_at DESC, key_id');
    const keys = new Map<string, ChannelMetaKey[]>();
    for (const r of rows) keys.set(r.channel_id, [...(keys.get(r.channel_id) ?? []), { keyId: r.key_id, key: r.key }]);
    return keys;
  }

  async keysOf(channelId: string): Promise<ChannelMetaKey[]> {
    const rows = await this.#ctx.vault.all<{ key_id: number; key: Uint8Array }>('SELECT key_id, key FROM channel_keys WHERE channel_id = ? ORDER BY added_at DESC, key_id', [channelId]);
    return rows.map((r) => ({ keyId: r.key_id, key: r.key }));
  }

  /** Stores a key. The first key a channel gets under an id is the one kept: a later one cannot replace it. */
  keyStatement(channelId: string, key: ChannelMetaKey): Statement {
    return { sql: 'INSERT OR IGNORE INTO channel_keys (channel_id, key_id, key, added_at) VALUES (?, ?, ?, ?)', params: [channelId, key.keyId, key.key, this.#ctx.now()] };
  }

  /** A channel this device left: its keys go (someone re-adding us sends them again). */
  forgetStatement(channelId: string): Statement {
    return { sql: 'DELETE FROM channel_keys WHERE channel_id = ?', params: [channelId] };
  }

  /** Seals a name or topic as this device. */
  seal(key: ChannelMetaKey, field: ChannelField, value: ChannelValue, listed: string | null = null): Uint8Array {
    return sealChannelField(key, field, value, this.#ctx.self, listed);
  }

  /**
   * An open channel's name as listed to the whole organisation (and so to the relay), for finding it by name before
   * joining; null for anything else. Not authenticated: once this device holds the key it shows the sealed name.
   */
  listedName(channel: Channel): string | null {
    if (!channel.open) return null;
    try {
      return readChannelBox(channel.name).listed;
    } catch {
      return null;
    }
  }

  /** What this device shows for a channel the relay lists it in, from the relay's boxes and what it held before. */
  reconcile(channel: Channel, stored: ChannelRow | undefined, keys: ChannelMetaKey[]): ChannelRow {
    const { channelId } = channel;
    const row: ChannelRow = {
      id: channelConversationId(channelId), remoteId: channelId, role: channel.role,
      name: stored?.name ?? PENDING_NAME, nameSetAt: stored?.nameSetAt ?? null, topic: stored?.topic ?? null, topicSetAt: stored?.topicSetAt ?? null,
    };
    const name = this.#open(channelId, 'name', channel.name, keys);
    if ('value' in name) {
      const replayed = row.nameSetAt !== null && name.value.setAt <= row.nameSetAt;
      if (!replayed && ChannelName.safeParse(name.value.text).success) {
        row.name = name.value.text;
        row.nameSetAt = name.value.setAt;
      } else if (!replayed) {
        this.#refused(row, 'name', channel.name); // sealed by a member, but not a channel name
      }
    } else if ('missing' in name) {
      // until the key arrives: what was verified, else an open channel's listed name, else a placeholder
      if (row.nameSetAt === null && channel.open && name.missing.listed !== null) row.name = name.missing.listed;
    } else {
      this.#refused(row, 'name', channel.name);
    }
    const topic = this.#open(channelId, 'topic', channel.topic, keys);
    if ('value' in topic && (row.topicSetAt === null || topic.value.setAt > row.topicSetAt)) {
      row.topic = topic.value.text || null;
      row.topicSetAt = topic.value.setAt;
    } else if ('refused' in topic) {
      this.#refused(row, 'topic', channel.topic);
    }
    return row;
  }

  /** The keys noted as missing since the last call (each asked for at most every few minutes). */
  takeMissing(): MissingKey[] {
    const now = this.#ctx.now();
    const due = [...this.#missing.entries()].filter(([k]) => now - (this.#askedAt.get(k) ?? -Infinity) >= ASK_AGAIN_MS);
    this.#missing.clear();
    for (const [k] of due) this.#askedAt.set(k, now);
    return due.map(([, m]) => m);
  }

  #open(channelId: string, field: ChannelField, bytes: Uint8Array, keys: ChannelMetaKey[]): Opened {
    // a channel made without a topic has none (and an old one has no sealed topic); an empty name is refused
    if (bytes.length === 0) return { empty: true };
    try {
      const box = readChannelBox(bytes);
      const key = keys.find((k) => k.keyId === box.keyId);
      if (!key) {
        this.#note({ channelId, keyId: box.keyId, sealer: box.by });
        return { missing: box };
      }
      return { value: openChannelField(box, field, key) };
    } catch (error) {
      if (error instanceof ProtocolError) return { refused: true };
      throw error;
    }
  }

  #note(missing: MissingKey): void {
    const k = `${missing.channelId}:${missing.keyId}`;
    if (this.#missing.has(k) || this.#ctx.now() - (this.#askedAt.get(k) ?? -Infinity) < ASK_AGAIN_MS) return;
    this.#missing.set(k, missing);
    this.#onMissing();
  }

  /** A box that does not open is never shown; the person hears of it once, like any message that cannot be read. */
  #refused(row: ChannelRow, field: ChannelField, bytes: Uint8Array): void {
    if (field === 'name' && row.nameSetAt === null) row.name = UNREADABLE_NAME;
    const k = `${row.remoteId}:${field}:${toBase64Url(blake2b(bytes, 16))}`;
    if (this.#reported.has(k)) return;
    this.#reported.add(k);
    this.#ctx.emit('message.undecryptable', {
      conversation: row.id,
      reason: `the relay served a channel ${field} that is not sealed by its members; this device keeps the one it verified`,
    });
  }
}
