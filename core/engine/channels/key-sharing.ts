// Channel metadata keys travel like sender keys: inside the pairwise sessions, only to devices of the channel's
// members (as the relay lists them, the same rule sender keys follow). The creator's other devices get a new
// channel's key, people added get every key the adder holds, every member device gets a key made after someone
// left, and a device that meets a box under a key it lacks (it joined an open channel, it was linked later, a
// distribution was lost) asks the sealing device, its own other devices and a few of the channel's managers.
import { newChannelMetaKey } from '../../protocol/channel-meta.ts';
import { encryptToDevices, newMessageId } from '../../protocol/processor.ts';
import { LIMITS } from '../../protocol/limits.ts';
import type { ChannelMetaKey, DeviceAddress, Payload, PayloadContent } from '../../protocol/wire.ts';
import type { Statement } from '../../vault/index.ts';
import type { EngineContext } from '../context.ts';
import type { Outbound } from '../outbound/fanout.ts';
import type { ChannelDirectory } from './members.ts';
import type { ChannelMetadata, MissingKey } from './metadata.ts';
import { clearMetadataRotationStatement, metadataRotationDue } from './rotation.ts';

/** Owners and admins asked for a missing key besides the sealing device and our own devices. */
const ASKED_MANAGERS = 3;
/** At most this many devices are asked for one key. */
const ASKED_DEVICES = 16;

type ChannelKeyPayload = Extract<Payload, { kind: 'channel-key' }>;

export class ChannelKeySharing {
  readonly #ctx: EngineContext;
  readonly #channels: ChannelDirectory;
  readonly #metadata: ChannelMetadata;
  readonly #outbound: Outbound;
  #asked: { requester: DeviceAddress; channelId: string; keyId: number }[] = [];
  #askScheduled = false;

  constructor(ctx: EngineContext, channels: ChannelDirectory, metadata: ChannelMetadata, outbound: Outbound) {
    this.#ctx = ctx;
    this.#channels = channels;
    this.#metadata = metadata;
    this.#outbound = outbound;
    metadata.whenMissing(() => this.#askSoon());
  }

  #control(content: PayloadContent): Payload {
    return { id: newMessageId(), sentAt: this.#ctx.now(), timers: null, syncTo: null, group: null, ...content } as Payload;
  }

  /** Every key this device holds for the channel, to these people's devices and our own other devices. In the lane. */
  async shareWith(channelId: string, usernames: string[]): Promise<void> {
    const keys = (await this.#metadata.keysOf(channelId)).slice(0, LIMITS.channelKeysPerPayload);
    if (keys.length === 0) return;
    for (const username of usernames) await this.#outbound.queueControl(username, { kind: 'channel-key', channelId, keys });
    this.#outbound.flushSoon();
  }

  /** Waits (bounded) for what was queued to reach the relay. */
  delivered(): Promise<void> {
    return this.#outbound.flushBounded();
  }

  /**
   * The key a new topic is sealed under: the newest held, or, when a member left since (or none is held), a new
   * one, queued first to every member device and committed with those frames. In the lane.
   */
  async keyForWrite(channelId: string): Promise<{ key: ChannelMetaKey; fresh: boolean }> {
    const held = (await this.#metadata.keysOf(channelId))[0];
    if (held && !(await metadataRotationDue(this.#ctx.vault, channelId))) return { key: held, fresh: false };
    const key = newChannelMetaKey();
    const targets = await this.#outbound.memberDevices(channelId);
    const payload = this.#control({ kind: 'channel-key', channelId, keys: [key] });
    await this.#outbound.queueToDevices((staged, now, sessions) => encryptToDevices(staged, targets, payload, now, sessions),
      [this.#metadata.keyStatement(channelId, key), clearMetadataRotationStatement(channelId)]);
    return { key, fresh: true };
  }

  /**
   * What to commit for a channel-key payload: its keys, if it came over a pairwise session from a device of a
   * current member of that channel; nothing otherwise (a key from anyone else could seal a forged name).
   */
  async accept(sender: string, pairwise: boolean, payload: ChannelKeyPayload): Promise<Statement[]> {
    const { channelId } = payload;
    let member = false;
    try {
      member = pairwise && ((await this.#channels.isMember(channelId, sender)) || (await this.#channels.isMember(channelId, sender, true)));
    } catch (error) {
      this.#ctx.problem(error as Error); // not known now: the key is asked for again when a box needs it
      return [];
    }
    if (!member) {
      this.#ctx.emit('message.undecryptable', { sender, reason: 'a channel key from someone who is not a member of that channel was refused' });
      return [];
    }
    return payload.keys.map((key) => this.#metadata.keyStatement(channelId, key));
  }

  /** A member asked for one of the channel's keys. */
  asked(requester: DeviceAddress, channelId: string, keyId: number): void {
    this.#asked.push({ requester, channelId, keyId });
  }

  get hasRequests(): boolean {
    return this.#asked.length > 0;
  }

  /** Answers members' requests, then asks for the keys this device lacks, through the outbox. In the lane. */
  async sendRequests(): Promise<void> {
    await this.#answer();
    await this.#ask();
  }

  async #answer(): Promise<void> {
    const seen = new Set<string>();
    for (const r of this.#asked.splice(0)) {
      const k = JSON.stringify(r);
      if (seen.has(k)) continue;
      seen.add(k);
      try {
        const key = (await this.#metadata.keysOf(r.channelId)).find((held) => held.keyId === r.keyId);
        if (!key || !(await this.#channels.isMember(r.channelId, r.requester.userId, true))) continue; // never to a non-member
        if (await this.#channels.heads.problem(r.channelId)) continue; // nor while the log may hide that they were removed
        const payload = this.#control({ kind: 'channel-key', channelId: r.channelId, keys: [key] });
        await this.#outbound.queueToDevices((staged, now, sessions) => encryptToDevices(staged, [r.requester], payload, now, sessions));
      } catch (error) {
        this.#ctx.problem(error as Error);
      }
    }
  }

  async #ask(): Promise<void> {
    for (const missing of this.#metadata.takeMissing()) {
      try {
        const targets = await this.#holders(missing);
        if (targets.length === 0) continue;
        const payload = this.#control({ kind: 'channel-key-request', channelId: missing.channelId, keyId: missing.keyId });
        await this.#outbound.queueToDevices((staged, now, sessions) => encryptToDevices(staged, targets, payload, now, sessions));
      } catch (error) {
        this.#ctx.problem(error as Error);
      }
    }
  }

  /** The devices likely to hold a key: the one that sealed the box, our own others, and a few managers' (members only). */
  async #holders(missing: MissingKey): Promise<DeviceAddress[]> {
    const channel = await this.#channels.channel(missing.channelId);
    if (!channel) return [];
    const targets: DeviceAddress[] = [];
    const add = (device: DeviceAddress) => {
      const self = device.userId === this.#ctx.username && device.deviceId === this.#ctx.deviceId;
      if (!self && targets.length < ASKED_DEVICES && !targets.some((t) => t.userId === device.userId && t.deviceId === device.deviceId)) targets.push(device);
    };
    if (channel.members.has(missing.sealer.userId) && (await this.#outbound.currentDevices(missing.sealer.userId)).devices.includes(missing.sealer.deviceId)) add(missing.sealer);
    const managers = [...channel.members].filter(([, role]) => role !== 'member').slice(0, ASKED_MANAGERS).map(([username]) => username);
    for (const username of new Set([this.#ctx.username, ...managers])) {
      for (const deviceId of (await this.#outbound.currentDevices(username)).devices) add({ userId: username, deviceId });
    }
    return targets;
  }

  /** A sync noted a missing key: ask once it is done (never from inside it: it may itself be in the lane). */
  #askSoon(): void {
    if (this.#askScheduled) return;
    this.#askScheduled = true;
    setImmediate(() => {
      this.#askScheduled = false;
      void this.#ctx.lane.run(() => this.#ask()).then(() => this.#outbound.flushSoon(), (error: Error) => this.#ctx.problem(error));
    });
  }
}
