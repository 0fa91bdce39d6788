// A channel message must never stay undecryptable silently. One whose sender key has not arrived is held in the
// vault (held_frames) and its sender's device is asked for the key; when a key arrives the held frames go through
// the normal path again. Requests from other members for our keys are answered, never to a non-member.
import { ProtocolError } from '../../protocol/errors.ts';
import { answerSenderKeyRequest, decryptFrame, requestSenderKey } from '../../protocol/processor.ts';
import { StagedProtocolStore } from '../../protocol/store.ts';
import type { DeviceAddress } from '../../protocol/wire.ts';
import type { Statement } from '../../vault/index.ts';
import type { ChannelDirectory } from '../channels/members.ts';
import type { EngineContext } from '../context.ts';
import { channelConversationId } from '../conversations/ref.ts';
import type { ConversationRouter } from '../conversations/routing.ts';
import { describeFailure } from '../errors.ts';
import { activityStatements, applyPayload, type Effect } from '../inbound/payloads.ts';
import type { Outbound } from '../outbound/fanout.ts';

const HELD_FRAMES_MAX = 5000;

interface KeyRequest {
  sender: DeviceAddress;
  channelId: string;
  keyId: number;
}

/** The row that holds a channel frame until its sender key arrives (committed with the batch that saw it). */
export function heldFrameStatement(held: { msgId: Uint8Array; sender: DeviceAddress; channelId: string; body: Uint8Array; receivedAt: number }): Statement {
  return {
    sql: 'INSERT OR IGNORE INTO held_frames (msg_id, sender_user, sender_device, channel, body, received_at) VALUES (?, ?, ?, ?, ?, ?)',
    params: [held.msgId, held.sender.userId, held.sender.deviceId, held.channelId, held.body, held.receivedAt],
  };
}

export class SenderKeyRecovery {
  readonly #ctx: EngineContext;
  readonly #channels: ChannelDirectory;
  readonly #routing: ConversationRouter;
  readonly #outbound: Outbound;
  #missing: KeyRequest[] = [];
  #asked: { requester: DeviceAddress; channelId: string; keyId: number }[] = [];
  #retryHeld = false;

  constructor(ctx: EngineContext, channels: ChannelDirectory, routing: ConversationRouter, outbound: Outbound) {
    this.#ctx = ctx;
    this.#channels = channels;
    this.#routing = routing;
    this.#outbound = outbound;
  }

  /** A frame arrived whose sender key we lack: ask that device for it (after the batch commits). */
  missing(request: KeyRequest): void {
    this.#missing.push(request);
  }

  /** A member asked for one of our sender keys. */
  asked(requester: DeviceAddress, channelId: string, keyId: number): void {
    this.#asked.push({ requester, channelId, keyId });
  }

  /** A sender key arrived: held frames may now decrypt. */
  keyArrived(): void {
    this.#retryHeld = true;
  }

  get hasRequests(): boolean {
    return this.#missing.length > 0 || this.#asked.length > 0;
  }

  get retryDue(): boolean {
    return this.#retryHeld;
  }

  /** Answers and asks, through the outbox. In the lane. */
  async sendRequests(): Promise<void> {
    await this.#answer();
    await this.#ask();
  }

  async #answer(): Promise<void> {
    for (const r of this.#asked.splice(0)) {
      try {
        if (!(await this.#channels.isMember(r.channelId, r.requester.userId, true))) continue; // never to a non-member
        await this.#outbound.queueToDevices((staged, now, sessions) => answerSenderKeyRequest(staged, r.requester, r.channelId, r.keyId, now, sessions));
      } catch (error) {
        this.#ctx.problem(error as Error);
      }
    }
  }

  async #ask(): Promise<void> {
    const seen = new Set<string>();
    for (const r of this.#missing.splice(0)) {
      const key = JSON.stringify(r);
      if (seen.has(key)) continue;
      seen.add(key);
      try {
        await this.#ctx.directory.ensure(r.sender.userId);
        await this.#outbound.queueToDevices((staged, now, sessions) => requestSenderKey(staged, r.sender, r.channelId, r.keyId, now, sessions));
      } catch (error) {
        this.#ctx.problem(error as Error);
      }
    }
  }

  /** Channel frames that waited for their sender key go through the normal path again; returns their effects. In the lane. */
  async retryHeldFrames(): Promise<Effect[]> {
    const ctx = this.#ctx;
    this.#retryHeld = false;
    const rows = await ctx.vault.all<{ id: number; msg_id: Uint8Array; sender_user: string; sender_device: string; channel: string; body: Uint8Array; received_at: number }>(
      'SELECT id, msg_id, sender_user, sender_device, channel, body, received_at FROM held_frames ORDER BY id LIMIT ?', [HELD_FRAMES_MAX]);
    if (rows.length === 0) return [];
    const now = ctx.now();
    const staged = new StagedProtocolStore(ctx.store);
    const statements: Statement[] = [];
    const effects: Effect[] = [];
    const done: number[] = [];
    for (const row of rows) {
      try {
        const incoming = decryptFrame(staged, row.body, now);
        staged.commit(incoming.writes);
        done.push(row.id);
        const conversationId = await this.#routing.inboundConversation(incoming.channelId, row.sender_user, incoming.payload);
        if (!conversationId) continue;
        const applied = applyPayload(incoming.payload, {
          conversationId, sender: row.sender_user, senderDevice: row.sender_device, own: row.sender_user === ctx.username, me: ctx.username,
          receivedAt: row.received_at, relayReceivedAt: row.received_at, now: ctx.clock.now(), policy: ctx.policy,
        });
        statements.push(...applied.statements);
        effects.push(...applied.effects);
      } catch (error) {
        if (error instanceof ProtocolError && error.code === 'MISSING_SENDER_KEY') continue;
        done.push(row.id);
        ctx.emit('message.undecryptable', { conversation: channelConversationId(row.channel), sender: row.sender_user, reason: describeFailure(error) });
      }
    }
    await ctx.lane.commitWrites(staged.takeWrites(), [...statements, ...activityStatements(effects),
      { sql: 'DELETE FROM held_frames WHERE id IN (SELECT value FROM json_each(?))', params: [JSON.stringify(done)] }], now);
    return effects;
  }
}
