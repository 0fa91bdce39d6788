// Typing indicators: encrypted like any payload (pairwise, to the conversation's other people) but sent as live
// relay signals, never stored or queued, and only over sessions that already exist (a typing signal never claims a
// prekey). Off in the settings means off both ways, like receipts.
//
// Signals to a device that is offline are refused by the relay after this device already took a ratchet step for
// them; the receiver later skips those message keys. So a device the relay called offline is left out for a while,
// which keeps that gap to a few steps per minute.
import { fromBase64Url } from '../../crypto/sodium.ts';
import { decryptEnvelope, encryptToDevices, newMessageId } from '../../protocol/processor.ts';
import { StagedProtocolStore } from '../../protocol/store.ts';
import { decodeEnvelope, type DeviceAddress, type Payload } from '../../protocol/wire.ts';
import type { ChannelDirectory } from '../channels/members.ts';
import type { EngineContext } from '../context.ts';
import { channelConversationId } from '../conversations/ref.ts';
import type { ConversationRouter } from '../conversations/routing.ts';
import type { Outbound, SendTarget } from '../outbound/fanout.ts';
import { RelayError } from '../relay-http.ts';

/** A "typing" is repeated at most this often while the user keeps typing; a UI shows it a little longer. */
export const TYPING_REPEAT_MS = 3_000;
/** A device the relay called offline gets no typing signals for this long. */
const OFFLINE_PAUSE_MS = 60_000;
/** Channels with more member devices than this get no typing indicators (the fan-out is per device). */
export const TYPING_MAX_DEVICES = 50;

export class Typing {
  readonly #ctx: EngineContext;
  readonly #channels: ChannelDirectory;
  readonly #routing: ConversationRouter;
  readonly #outbound: Outbound;
  readonly #lastSent = new Map<string, { typing: boolean; at: number }>();
  readonly #offlineUntil = new Map<string, number>();

  constructor(ctx: EngineContext, channels: ChannelDirectory, routing: ConversationRouter, outbound: Outbound) {
    this.#ctx = ctx;
    this.#channels = channels;
    this.#routing = routing;
    this.#outbound = outbound;
  }

  /** Tells the conversation's other people that this user is typing (or stopped). */
  async send(conversation: string, typing: boolean): Promise<void> {
    const ctx = this.#ctx;
    if (!ctx.profile.typing) return;
    const target = await this.#routing.fromCaller(conversation);
    const now = ctx.now();
    const last = this.#lastSent.get(conversation);
    if (typing && last?.typing && now - last.at < TYPING_REPEAT_MS) return;
    if (!typing && !last?.typing) return; // nothing to take back
    this.#lastSent.set(conversation, { typing, at: now });
    const devices = (await this.#devices(target)).filter((d) => (this.#offlineUntil.get(d.deviceId) ?? 0) <= now);
    if (devices.length === 0) return;
    const payload = {
      id: newMessageId(), sentAt: now, timers: null, kind: 'typing', typing,
      syncTo: target.kind === 'direct' ? target.username : null,
      group: target.kind === 'group' ? { id: fromBase64Url(target.groupId), members: target.members } : null,
      channel: target.kind === 'channel' ? target.channelId : null,
    } as Payload;
    const frames = await ctx.lane.run(async () => {
      const staged = new StagedProtocolStore(ctx.store);
      const encrypted = encryptToDevices(staged, devices, payload, now); // devices without a session are skipped
      staged.commit(encrypted.writes);
      await ctx.lane.commitWrites(staged.takeWrites());
      return encrypted.frames;
    });
    await Promise.all(frames.map((f) => ctx.socket.signal(f.to.deviceId, f.frame).catch((error: unknown) => {
      if (error instanceof RelayError && error.code === 'offline') this.#offlineUntil.set(f.to.deviceId, ctx.now() + OFFLINE_PAUSE_MS);
      else ctx.problem(error as Error);
    })));
  }

  /** Everyone's devices in the conversation but this account's (our other devices need no typing). */
  async #devices(target: SendTarget): Promise<DeviceAddress[]> {
    const ctx = this.#ctx;
    const people = target.kind === 'direct' ? [target.username]
      : target.kind === 'group' ? target.members
        // nobody hears of it in a channel whose membership log the relay withholds or forks (membership-sync.ts)
        : (await this.#channels.heads.problem(target.channelId)) ? [] : await this.#channels.memberUsernames(target.channelId);
    const devices: DeviceAddress[] = [];
    for (const username of people) {
      if (username === ctx.username) continue;
      const known = await this.#outbound.currentDevices(username);
      devices.push(...known.devices.map((deviceId) => ({ userId: username, deviceId })));
      if (devices.length > TYPING_MAX_DEVICES) return [];
    }
    return devices;
  }

  /**
   * A live signal from the relay: decrypted in the lane (its ratchet step is committed), and shown only when it is
   * a typing payload from someone who belongs in that conversation. Anything else that arrives this way is dropped.
   */
  async receive(from: { account: string; device: string }, body: Uint8Array): Promise<void> {
    const ctx = this.#ctx;
    if (!ctx.profile.typing) return;
    const envelope = decodeEnvelope(body);
    if (envelope.kind !== 'pairwise' || envelope.start) return; // typing never starts a session
    const sender = await ctx.directory.usernameOf(from.account);
    if (sender !== envelope.from.userId || from.device !== envelope.from.deviceId || sender === ctx.username) return;
    const payload = await ctx.lane.run(async () => {
      const staged = new StagedProtocolStore(ctx.store);
      const incoming = decryptEnvelope(staged, envelope, ctx.now());
      staged.commit(incoming.writes);
      await ctx.lane.commitWrites(staged.takeWrites(), [], ctx.now());
      return incoming.payload;
    });
    if (payload.kind !== 'typing') return;
    const conversation = payload.channel !== null
      ? ((await this.#channels.isMember(payload.channel, sender)) && (await this.#channels.isMember(payload.channel, ctx.username)) ? channelConversationId(payload.channel) : null)
      : await this.#routing.inboundConversation(null, sender, payload);
    if (!conversation) return;
    ctx.emit('typing', { conversation, username: sender, typing: payload.typing });
  }
}
