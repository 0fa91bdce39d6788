// Everything that leaves this device: user payloads to a conversation and control payloads to particular devices,
// encrypted against the lane's protocol state and committed, with the frames, into the outbox in one transaction.
import type { MessageViewT } from '../../api/contract.ts';
import { fromBase64Url, toBase64Url } from '../../crypto/sodium.ts';
import {
  encryptChannelMessage, encryptToDevices, fanOutTargets, newMessageId, prepareChannelKey, type NewSession, type OutgoingFrame as ProtocolFrame,
} from '../../protocol/processor.ts';
import { StagedProtocolStore, type ProtocolWrite } from '../../protocol/store.ts';
import { decodePayload, encodePayload, type DeviceAddress, type Payload, type PayloadContent } from '../../protocol/wire.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { MAX_RECIPIENTS } from '../../relay/frames.ts';
import type { Statement } from '../../vault/index.ts';
import type { ChannelDirectory } from '../channels/members.ts';
import type { ChannelMetadata } from '../channels/metadata.ts';
import { clearRotationStatement, rotationDue } from '../channels/rotation.ts';
import type { EngineContext } from '../context.ts';
import { conversationId, type ConversationRef } from '../conversations/ref.ts';
import { EngineError } from '../errors.ts';
import { emitUpdated } from '../messages/views.ts';
import { ensureDirectStatement, ensureGroupStatement, messageViews, setStatusStatement, statusStatement } from '../history.ts';
import type { OutgoingFrame, Recipient } from '../outbox.ts';
import { relayUnreachable, UntrustedRelayError } from '../relay-http.ts';

/** Envelopes wait on the relay at most this long unless the message's own timer is shorter. */
const DEFAULT_ENVELOPE_TTL_MS = 30 * 24 * 3600 * 1000;
/** Bytes of ciphertext per relay frame (its limit is 256 KiB, with CBOR framing around the bodies). */
const FRAME_BUDGET_BYTES = 192 * 1024;

/** Where a user payload goes: a conversation, with a group's members resolved (they are fixed at creation). */
export type SendTarget = Exclude<ConversationRef, { kind: 'group' }> | { kind: 'group'; groupId: string; members: string[] };

/** The ConversationId of a send target (a group's is its id alone). */
export const storedConversationId = (target: SendTarget) => (target.kind === 'group' ? conversationId({ kind: 'group', groupId: target.groupId }) : conversationId(target));

/** How long a command waits for the relay connection before answering "pending" (queued until it is back). */
export const CONNECT_WAIT_MS = 3_000;
/** How many held sends one round moves to the outbox (the rest follow in the next). */
const HELD_SENDS_PER_ROUND = 500;

const OUT_OF_SYNC = 'the relay withholds or forks this channel\'s membership changes: no key goes out to its members until it shows what they vouched for';

/** What a person wrote (held for an unaccepted identity); everything else is control traffic. */
const USER_CONTENT = new Set<Payload['kind']>(['text', 'reply', 'edit', 'delete', 'reaction', 'file']);
/** What the archive gets a copy of: what people write, and a conversation's timer changes (announced to its members). */
const ARCHIVED = new Set<Payload['kind']>([...USER_CONTENT, 'timer']);

/**
 * A device list fetched for this very send brought an identity key the user has not accepted: nothing was encrypted
 * to it, and what was written waits for the user like any send to a changed identity.
 */
class ChangedDuringSend extends Error {
  override readonly name = 'ChangedDuringSend';
}

const heldSendStatement = (conversation: string, payload: Payload, messageId: string | null, now: number): Statement => ({
  sql: 'INSERT INTO pending_sends (conversation, payload, message_id, created_at) VALUES (?, ?, ?, ?)', params: [conversation, encodePayload(payload), messageId, now],
});

/** Retention (retention/retention.ts): who gets a copy of what people write, and who gets no channel keys. */
export interface ArchiveCopies {
  copiesTo(): string | null;
  withheldFrom(username: string): boolean;
}
const NO_ARCHIVE: ArchiveCopies = { copiesTo: () => null, withheldFrom: () => false };

type DeviceEncryption = (staged: StagedProtocolStore, now: number, sessions: NewSession[]) => { frames: ProtocolFrame[]; missing: DeviceAddress[]; writes: ProtocolWrite[] };

export class Outbound {
  readonly #ctx: EngineContext;
  readonly #channels: ChannelDirectory;
  readonly #metadata: ChannelMetadata;
  /** Accounts whose device list was fetched since the socket last came online (see currentDevices). */
  readonly #listsFresh = new Set<string>();
  readonly #archive: ArchiveCopies;

  constructor(ctx: EngineContext, channels: ChannelDirectory, metadata: ChannelMetadata, archive: ArchiveCopies = NO_ARCHIVE) {
    this.#ctx = ctx;
    this.#channels = channels;
    this.#metadata = metadata;
    this.#archive = archive;
  }

  /** The socket came online: device lists are fetched afresh before the next encryption to them. */
  online(): void {
    this.#listsFresh.clear();
  }

  /**
   * Relay frames for pairwise ciphertexts. A large fan-out (a sender key to a big channel) is split so each frame
   * stays well under the relay's 256 KiB limit; every part needs its own id, since the relay stores an id once.
   */
  pairwiseFrames(frames: ProtocolFrame[], now: number, msgId = newMessageId(), messageId: string | null = null, expiresAt = now + this.#envelopeTtlMs()): OutgoingFrame[] {
    const parts: Recipient[][] = [];
    let size = Infinity;
    for (const f of frames) {
      if (size + f.frame.length > FRAME_BUDGET_BYTES || parts.at(-1)!.length >= MAX_RECIPIENTS) {
        parts.push([]);
        size = 0;
      }
      parts.at(-1)!.push({ user: f.to.userId, device: f.to.deviceId, body: f.frame });
      size += f.frame.length + 64;
    }
    return parts.map((to, i) => ({ msgId: i === 0 ? msgId : newMessageId(), expiresAt, channel: null, messageId: i === 0 ? messageId : null, to }));
  }

  /**
   * The account's device list, fetched afresh once per connection before we encrypt to it: the relay announces
   * list changes (a linked device) only to devices online at the time, so a device that was closed would
   * otherwise keep encrypting to the old list. Offline, or if the fetch fails, the list we hold is used.
   */
  async currentDevices(username: string) {
    const { directory } = this.#ctx;
    if (this.#listsFresh.has(username)) return directory.ensure(username);
    try {
      const known = await directory.refresh(username);
      this.#listsFresh.add(username);
      return known;
    } catch (error) {
      if (!directory.known(username)) throw error;
      this.#ctx.problem(error as Error);
      return directory.ensure(username);
    }
  }

  /**
   * Every member device except this one, as verified device lists say (the channel's signed log says who). A member
   * whose changed identity key the user has not accepted gets no sender key (nor channel metadata key) until it is
   * accepted.
   */
  async memberDevices(channelId: string): Promise<DeviceAddress[]> {
    if (await this.#channels.heads.problem(channelId)) throw new EngineError('HOSTILE_SERVER', OUT_OF_SYNC);
    const devices: DeviceAddress[] = [];
    for (const username of await this.#channels.memberUsernames(channelId)) {
      if (this.#archive.withheldFrom(username)) continue;
      const known = await this.currentDevices(username);
      // asked after the fetch: the list fetched just now may be the one that changed the key
      if (username !== this.#ctx.username && this.#ctx.directory.identity(username) !== 'accepted') continue;
      for (const deviceId of known.devices) if (!(username === this.#ctx.username && deviceId === this.#ctx.deviceId)) devices.push({ userId: username, deviceId });
    }
    return devices;
  }

  /** Encrypts a payload to every device of these people and this account's other devices, starting sessions as needed. */
  async #encryptDirect(staged: StagedProtocolStore, usernames: string[], payload: Payload, now: number): Promise<ProtocolFrame[]> {
    const own = await this.currentDevices(this.#ctx.username);
    const targets: DeviceAddress[] = [];
    for (const username of usernames) {
      for (const t of fanOutTargets(await this.currentDevices(username), own, this.#ctx.self)) {
        if (!targets.some((x) => x.userId === t.userId && x.deviceId === t.deviceId)) targets.push(t);
      }
    }
    const first = encryptToDevices(staged, targets, payload, now);
    staged.commit(first.writes);
    if (first.missing.length === 0) return first.frames;
    const sessions = await this.#ctx.directory.newSessions(first.missing, (e) => this.#ctx.problem(e));
    const second = encryptToDevices(staged, sessions.map((s) => s.device), payload, now, sessions);
    staged.commit(second.writes);
    return [...first.frames, ...second.frames];
  }

  /**
   * Makes sure every member device holds our current sender key, rotating first if someone left. The frames come
   * as relay sends of their own: a relay send names each device once, and a newcomer gets two payloads.
   */
  async #prepareChannel(staged: StagedProtocolStore, channelId: string, now: number): Promise<{ sends: ProtocolFrame[][]; statements: Statement[] }> {
    const members = await this.memberDevices(channelId);
    const rotate = await rotationDue(this.#ctx.vault, channelId);
    const first = prepareChannelKey(staged, channelId, members, now, rotate);
    staged.commit(first.writes);
    let frames = first.frames;
    // devices given our first sender key for the channel (not a rotation, after which they hold it already) are
    // given its metadata keys too: whoever can read the channel can read its name (a device linked later, a member
    // whose key from the one who added it was lost)
    const newcomers = first.rotated === null || first.rotated === 'no-key' ? first.frames.map((f) => f.to) : [];
    if (first.missing.length) {
      const sessions = await this.#ctx.directory.newSessions(first.missing, (e) => this.#ctx.problem(e));
      if (sessions.length) {
        const second = prepareChannelKey(staged, channelId, sessions.map((s) => s.device), now, false, sessions);
        staged.commit(second.writes);
        frames = [...frames, ...second.frames];
        newcomers.push(...second.frames.map((f) => f.to));
      }
    }
    const sends = [frames];
    const keys = newcomers.length ? (await this.#metadata.keysOf(channelId)).slice(0, LIMITS.channelKeysPerPayload) : [];
    if (keys.length) {
      const payload = { id: newMessageId(), sentAt: now, timers: null, syncTo: null, group: null, kind: 'channel-key', channelId, keys } satisfies Payload;
      const shared = encryptToDevices(staged, newcomers, payload, now);
      staged.commit(shared.writes);
      sends.push(shared.frames);
    }
    return { sends, statements: rotate ? [clearRotationStatement(channelId)] : [] };
  }

  /** A control payload to a person's devices (and our own other devices), through the outbox. Call inside the lane. */
  async queueControl(username: string, content: PayloadContent): Promise<void> {
    const now = this.#ctx.now();
    const payload = { id: newMessageId(), sentAt: now, timers: null, syncTo: username, group: null, ...content } as Payload;
    await this.#deliverOrHold({ kind: 'direct', username }, payload, null, [], now);
  }

  /**
   * Encrypts control traffic to particular devices (starting sessions where there are none) and queues it, with
   * `records` (local rows) in the same transaction. In the lane.
   */
  async queueToDevices(encrypt: DeviceEncryption, records: Statement[] = []): Promise<void> {
    const now = this.#ctx.now();
    const staged = new StagedProtocolStore(this.#ctx.store);
    let result = encrypt(staged, now, []);
    if (result.missing.length) result = encrypt(staged, now, await this.#ctx.directory.newSessions(result.missing, (e) => this.#ctx.problem(e)));
    await this.#ctx.lane.commitFrames(staged, result.writes, this.pairwiseFrames(result.frames, now), records);
  }

  /** How long the relay may keep what this device sends: never past the org policy's maximum life (it refuses that). */
  #envelopeTtlMs(): number {
    const cap = this.#ctx.policy.maxExpireSeconds;
    return cap === undefined ? DEFAULT_ENVELOPE_TTL_MS : Math.min(DEFAULT_ENVELOPE_TTL_MS, cap * 1000);
  }

  /** Sends a user payload to a conversation and records it locally in the same transaction; returns its id. */
  async sendPayload(target: SendTarget, content: PayloadContent, timers: Payload['timers'] | ((now: number) => Payload['timers']), local: (id: string, conversationId: string, now: number) => Statement[]): Promise<string> {
    const ctx = this.#ctx;
    const id = newMessageId();
    const messageId = toBase64Url(id);
    await ctx.lane.run(async () => {
      const now = ctx.now();
      const payload = {
        id, sentAt: now, timers: typeof timers === 'function' ? timers(now) : timers,
        syncTo: target.kind === 'direct' ? target.username : null,
        group: target.kind === 'group' ? { id: fromBase64Url(target.groupId), members: target.members } : null,
        ...content,
      } as Payload;
      const opens = target.kind === 'direct' ? [ensureDirectStatement(target.username)]
        : target.kind === 'group' ? [ensureGroupStatement(target.groupId, target.members, ctx.username)] : [];
      await this.#deliverOrHold(target, payload, messageId, [...opens, ...local(messageId, storedConversationId(target), now)], now);
    });
    return messageId;
  }

  /**
   * Encrypts a payload and queues its frames with `records` (the local rows) in one transaction. When that needs
   * the relay (a device list, a prekey, a member list) and the relay cannot be reached, the payload is held instead,
   * committed with the same rows, and goes out from sendHeld once the relay is back. In the lane.
   */
  async #deliverOrHold(target: SendTarget, payload: Payload, messageId: string | null, records: Statement[], now: number): Promise<void> {
    // Someone here has a new identity key the user has not accepted, or the channel's membership log is behind
    // what a member vouched for (or forked): what they wrote waits (held, shown as such); control traffic
    // (receipts, names) is not sent to a key nobody accepted at all, nor to a membership known to be stale.
    const holdForUser = async () => {
      if (!USER_CONTENT.has(payload.kind)) return;
      await this.#ctx.lane.commitWrites([], [...records, ...(messageId ? [setStatusStatement(messageId, 'held')] : []), heldSendStatement(storedConversationId(target), payload, messageId, now)]);
    };
    if (this.#awaitingAcceptance(target).length || (await this.#membershipInDoubt(target))) return holdForUser();
    try {
      await this.#encryptAndQueue(target, payload, messageId, records, now);
    } catch (error) {
      if (error instanceof ChangedDuringSend) return holdForUser();
      if (!relayUnreachable(error)) throw error;
      await this.#ctx.lane.commitWrites([], [...records, heldSendStatement(storedConversationId(target), payload, messageId, now)]);
      this.#ctx.log(`relay unreachable: a ${payload.kind} waits for it (${(error as Error).message.slice(0, 120)})`);
    }
  }

  /** A channel whose membership log the relay withholds or forks (channels/membership-sync.ts): no key goes out for it. */
  async #membershipInDoubt(target: SendTarget): Promise<boolean> {
    return target.kind === 'channel' && (await this.#channels.heads.problem(target.channelId)) !== null;
  }

  /** The people of a direct or group conversation whose changed identity key the user has not accepted yet. */
  #awaitingAcceptance(target: SendTarget): string[] {
    const people = target.kind === 'direct' ? [target.username] : target.kind === 'group' ? target.members : [];
    return people.filter((p) => p !== this.#ctx.username && this.#ctx.directory.identity(p) !== 'accepted');
  }

  async #encryptAndQueue(target: SendTarget, payload: Payload, messageId: string | null, extra: Statement[], now: number): Promise<void> {
    const ctx = this.#ctx;
    const staged = new StagedProtocolStore(ctx.store);
    const expiresAt = Math.min(payload.timers?.expiresAt ?? Infinity, now + this.#envelopeTtlMs());
    if (target.kind === 'channel') {
      const prepared = await this.#prepareChannel(staged, target.channelId, now);
      // where our membership log stands, inside the encryption: a member behind it reads the log up to it
      const log = await this.#channels.logs.verified(target.channelId);
      const membership = log ? { seq: log.seq, head: log.head } : undefined;
      const encrypted = encryptChannelMessage(staged, target.channelId, membership ? { ...payload, membership } : payload, now);
      const channelFrame: OutgoingFrame = { msgId: payload.id, expiresAt, channel: target.channelId, body: encrypted.frame, messageId };
      const pairwise = prepared.sends.flatMap((frames) => this.pairwiseFrames(frames, now));
      await ctx.lane.commitFrames(staged, encrypted.writes, [...pairwise, channelFrame], [...prepared.statements, ...extra]);
      return;
    }
    const people = target.kind === 'direct' ? [target.username] : target.members.filter((m) => m !== ctx.username);
    // the lists are fetched afresh once per connection, here at the latest: one may bring a key nobody accepted
    for (const person of people) await this.currentDevices(person);
    if (this.#awaitingAcceptance(target).length) throw new ChangedDuringSend();
    // while retention is on, what a person writes in a direct or group conversation goes to the archive too
    const archive = ARCHIVED.has(payload.kind) ? this.#archive.copiesTo() : null;
    if (archive !== null && !people.includes(archive)) people.push(archive);
    const frames = await this.#encryptDirect(staged, people, payload, now);
    // a note to self on an account with one device goes nowhere: it is sent as soon as it is stored (to anyone else,
    // no frame at all means no device could be reached, which is not "sent")
    const toSelfOnly = target.kind === 'direct' && target.username === ctx.username;
    const done = frames.length === 0 && messageId && toSelfOnly ? [statusStatement([messageId], 'sent')] : [];
    await ctx.lane.commitFrames(staged, [], this.#framesWithCopies(frames, archive, now, payload.id, messageId, expiresAt), [...extra, ...done]);
  }

  /**
   * The relay sends for a direct or group payload. The archive's copies go in a send of their own that waits on the
   * relay as long as any envelope may, not the message's own timer: an archive offline past a message's deadline
   * still gets it (its copy ignores expiry).
   */
  #framesWithCopies(frames: ProtocolFrame[], archive: string | null, now: number, msgId: Uint8Array, messageId: string | null, expiresAt: number): OutgoingFrame[] {
    const copies = archive === null ? [] : frames.filter((f) => f.to.userId === archive);
    if (copies.length === 0) return this.pairwiseFrames(frames, now, msgId, messageId, expiresAt);
    const others = frames.filter((f) => f.to.userId !== archive);
    if (others.length === 0) return this.pairwiseFrames(copies, now, msgId, messageId);
    return [...this.pairwiseFrames(others, now, msgId, messageId, expiresAt), ...this.pairwiseFrames(copies, now)];
  }

  /**
   * Sends what was held while the relay was unreachable, oldest first, each moved to the outbox in the transaction
   * that deletes its hold. Stops at the first one the relay is still needed for. In the lane.
   */
  async sendHeld(targetOf: (conversation: string) => Promise<SendTarget>): Promise<number> {
    const ctx = this.#ctx;
    const rows = await ctx.vault.all<{ seq: number; conversation: string; payload: Uint8Array; message_id: string | null }>(
      'SELECT seq, conversation, payload, message_id FROM pending_sends ORDER BY seq LIMIT ?', [HELD_SENDS_PER_ROUND]);
    let sent = 0;
    for (const row of rows) {
      const release: Statement = { sql: 'DELETE FROM pending_sends WHERE seq = ?', params: [row.seq] };
      const payload = decodePayload(row.payload);
      const now = ctx.now();
      try {
        if (payload.timers?.expiresAt != null && payload.timers.expiresAt <= now) {
          await ctx.vault.transaction([release]); // its time ran out while it waited: it is gone here too
          continue;
        }
        const target = await targetOf(row.conversation);
        if (this.#awaitingAcceptance(target).length || (await this.#membershipInDoubt(target))) continue; // still waiting for the user, or for a log that agrees
        await this.#encryptAndQueue(target, payload, row.message_id, [release, ...(row.message_id ? [setStatusStatement(row.message_id, 'pending')] : [])], now);
        sent++;
      } catch (error) {
        if (error instanceof ChangedDuringSend) {
          // it waited for the relay, and now waits for the user
          if (row.message_id) {
            await ctx.vault.transaction([setStatusStatement(row.message_id, 'held')]);
            await emitUpdated(ctx, [row.message_id]);
          }
          continue;
        }
        // a relay that cannot be reached, or an impostor at its address: it waits (nothing lost), as it did
        if (relayUnreachable(error) || error instanceof UntrustedRelayError) break;
        ctx.problem(error as Error);
        await ctx.vault.transaction([release, ...(row.message_id ? [statusStatement([row.message_id], 'failed')] : [])]);
      }
    }
    return sent;
  }

  /**
   * Waits (bounded) for the outbox to hand what is queued to the relay, so a caller sees "sent" when it was. A relay
   * that is not there within a few seconds is not waited for: what was queued stays queued and goes out when it is
   * back, and the caller hears so at once.
   */
  async flushBounded(): Promise<void> {
    const online = await this.#ctx.socket.waitOnline(CONNECT_WAIT_MS).then(() => true, () => false);
    if (!online) return;
    await Promise.race([this.#ctx.outbox.flush(), new Promise((resolve) => setTimeout(resolve, this.#ctx.sendWaitMs).unref())]).catch(() => {});
  }

  /** Waits (bounded) for a message to reach the relay and answers with how it stands. */
  async settleSend(messageId: string): Promise<MessageViewT> {
    await this.flushBounded();
    const [view] = await messageViews(this.#ctx.vault, [messageId]);
    if (!view) throw new EngineError('NOT_FOUND', 'the message vanished before it was sent');
    return view;
  }

  /** Starts the outbox without waiting: what was just queued goes out as soon as the relay takes it. */
  flushSoon(): void {
    void this.#ctx.outbox.flush().catch((error: Error) => this.#ctx.problem(error));
  }
}
