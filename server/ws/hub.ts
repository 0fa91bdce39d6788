// The envelope hub: one WebSocket per device. It turns client frames into authorised store writes (through the
// group committer), pushes committed envelopes to online devices, and replays each device's queue from the
// database when it connects or falls behind. The database is the queue; memory only speeds up the common case.
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { Logger } from 'pino';
import type { QueuedEnvelope, QuotaRefusal, SendRequest, SendResult, ServerStore } from '../store/types.ts';
import { GroupCommitter } from './group-commit.ts';
import { isStorageFull, STORAGE_FULL_MESSAGE } from '../errors.ts';
import { CodedError } from '../../core/crypto/coded-error.ts';
import { decodeClientFrame, deliverFrameEncoder, encodeFrame, FrameError, requestIdOf } from '../../core/relay/frames.ts';
import type { ClientFrame, DeliverFrame, ServerFrame, ServerNotice } from '../../core/relay/frames.ts';

/** Above this many bytes waiting in a socket we stop pushing to it and let the queue stay in the database. */
const HIGH_WATER_BYTES = 1024 * 1024;
/**
 * A socket with more than this waiting is closed. Deliveries stop at HIGH_WATER_BYTES, so a reader that keeps up,
 * however slowly, stays far below it; only signals, events and replies pile up for a client that stopped reading,
 * and without this cap they would grow the relay's memory without limit.
 */
export const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** A sender with this many sends awaiting commit stops being read until the disk catches up. */
const MAX_INFLIGHT_PER_SOCKET = 512;
const PAGE = 256;
const RETRY_WHEN_FULL_MS = 10;
/** A device is told (prekeys_low) when the lower of its X25519 and ML-KEM one-time counts falls below this. */
export const PREKEYS_LOW_THRESHOLD = 10;

export const CLOSE_REPLACED = 4000;
export const CLOSE_REVOKED = 4001;
export const CLOSE_SUSPENDED = 4002;
export const CLOSE_SHUTDOWN = 1001;

class Connection {
  readonly socket: WebSocket;
  readonly accountId: string;
  readonly deviceId: string;
  /** Highest seq pushed on this socket: nothing at or below it is pushed again on this connection. */
  cursor = 0;
  /** True when everything committed for this device up to now has been pushed; then new commits go straight out. */
  caughtUp = false;
  pumpScheduled = false;
  inflight = 0;
  paused = false;
  toldQueueEmpty = false;
  /**
   * The payload of the last ping, until a pong echoes it. Only that echo counts: it proves the client read our
   * ping, whereas a client that stopped reading could still send pongs of its own to look alive.
   */
  unansweredPing: Buffer | null = null;
  /** How far the peer had drained our frames when the unanswered ping went out (see drained). */
  drainedAtPing = 0;
  #sentBytes = 0;
  readonly #onSlow: (connection: Connection) => void;

  constructor(socket: WebSocket, accountId: string, deviceId: string, onSlow: (connection: Connection) => void) {
    this.socket = socket;
    this.accountId = accountId;
    this.deviceId = deviceId;
    this.#onSlow = onSlow;
  }

  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  get full(): boolean {
    return this.socket.bufferedAmount >= HIGH_WATER_BYTES;
  }

  send(frame: ServerFrame): void {
    this.sendEncoded(encodeFrame(frame));
  }

  /** Every frame to this device goes through here, so this is where a client that stopped reading is cut off. */
  sendEncoded(frame: Uint8Array): void {
    if (!this.open) return;
    this.#sentBytes += frame.length;
    this.socket.send(frame);
    if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) this.#onSlow(this);
  }

  /**
   * Bytes of our frames the peer's TCP stack has taken (sent, less what still waits in our buffer). It grows only
   * while the peer reads: a half-open or stopped client stops it once its buffers are full.
   */
  get drained(): number {
    return this.#sentBytes - this.socket.bufferedAmount;
  }

  /** The TCP socket under ws: ws has no public cork(), and batching frames into one write matters at fan-out. */
  get #tcp(): Duplex | undefined {
    return (this.socket as unknown as { _socket?: Duplex })._socket;
  }

  cork(): void {
    this.#tcp?.cork();
  }

  uncork(): void {
    this.#tcp?.uncork();
  }
}

/** A deliver frame without its seq: what every device receiving this envelope is sent alike. */
function sharedDeliverFields(envelope: QueuedEnvelope): Omit<DeliverFrame, 'seq'> {
  return {
    t: 'deliver', msgId: envelope.msgId,
    from: envelope.senderAccount && envelope.senderDevice ? { account: envelope.senderAccount, device: envelope.senderDevice } : null,
    channel: envelope.channelId, body: envelope.body, sentAt: envelope.sentAt, expiresAt: envelope.expiresAt,
  };
}

const deliverFrame = (envelope: QueuedEnvelope): ServerFrame => ({ ...sharedDeliverFields(envelope), seq: envelope.seq });

/**
 * Encodes deliver frames for a run of deliveries. The store hands every device of one fan-out the same body object
 * (and the same other fields), so consecutive deliveries with that body reuse one encoding of the shared fields.
 */
function deliverFramesByBody(): (envelope: QueuedEnvelope) => Uint8Array {
  let body: Uint8Array | null = null;
  let encode: ((seq: number) => Uint8Array) | null = null;
  return (envelope) => {
    if (envelope.body !== body || !encode) {
      body = envelope.body;
      encode = deliverFrameEncoder(sharedDeliverFields(envelope));
    }
    return encode(envelope.seq);
  };
}

/** How far ahead of ours a sender's clock may run before a deadline at the policy's limit counts as over it. */
const POLICY_CLOCK_ALLOWANCE_MS = 5 * 60_000;

export interface HubOptions {
  store: ServerStore;
  log: Logger;
  maxEnvelopeTtlMs: number;
  /** The org policy's cap on message lifetime in ms, if any; read per send so a new policy applies at once. */
  policyTtlCapMs?: () => number | null;
  /** How often sockets are pinged; one that has not answered the previous ping is dropped. Default 30 s. */
  heartbeatMs?: number;
  now?: () => number;
}

export class Hub {
  readonly #store: ServerStore;
  readonly #log: Logger;
  readonly #maxTtlMs: number;
  readonly #policyTtlCapMs: () => number | null;
  readonly #now: () => number;
  readonly #connections = new Map<string, Connection>();
  readonly committer: GroupCommitter;
  readonly #heartbeat: NodeJS.Timeout;

  constructor(options: HubOptions) {
    this.#store = options.store;
    this.#log = options.log;
    this.#maxTtlMs = options.maxEnvelopeTtlMs;
    this.#policyTtlCapMs = options.policyTtlCapMs ?? (() => null);
    this.#now = options.now ?? Date.now;
    this.committer = new GroupCommitter(this.#store, (results) => this.#pushCommitted(results));
    // Half-open TCP connections (a laptop closed mid-session) otherwise look online forever and hold memory.
    this.#heartbeat = setInterval(() => this.#checkHeartbeats(), options.heartbeatMs ?? 30_000);
    this.#heartbeat.unref();
  }

  isOnline(accountId: string): boolean {
    for (const connection of this.#connections.values()) if (connection.accountId === accountId) return true;
    return false;
  }

  attach(socket: WebSocket, accountId: string, deviceId: string): void {
    // One socket per device: a reconnect replaces the old socket, which may be a half-dead TCP connection.
    this.#connections.get(deviceId)?.socket.close(CLOSE_REPLACED, 'replaced by a newer connection');
    const connection = new Connection(socket, accountId, deviceId, (slow) => this.#dropSlow(slow));
    this.#connections.set(deviceId, connection);
    socket.binaryType = 'nodebuffer';
    socket.on('message', (data, isBinary) => this.#onMessage(connection, data as Buffer, isBinary));
    socket.on('close', () => {
      if (this.#connections.get(deviceId) === connection) this.#connections.delete(deviceId);
    });
    socket.on('error', (error) => this.#log.debug({ err: error.message, deviceId }, 'socket error'));
    socket.on('pong', (data) => {
      if (connection.unansweredPing?.equals(data)) connection.unansweredPing = null;
    });
    const stock = this.#store.prekeyStock(deviceId);
    const remaining = Math.min(stock.oneTime, stock.kemOneTime);
    if (remaining < PREKEYS_LOW_THRESHOLD) connection.send({ t: 'event', kind: 'prekeys_low', remaining });
    this.#schedulePump(connection);
  }

  /** Sends a transient control event to a device if it is online; returns whether it was. */
  notify(deviceId: string, frame: ServerFrame): boolean {
    const connection = this.#connections.get(deviceId);
    if (!connection?.open) return false;
    connection.send(frame);
    return true;
  }

  /** Sends a transient control event to every online device. */
  broadcast(frame: ServerFrame): void {
    for (const connection of this.#connections.values()) connection.send(frame);
  }

  /** Closes the device's socket at once (revocation, suspension); its queue was already dropped by the store. */
  disconnect(deviceId: string, code: number, reason: string): void {
    const connection = this.#connections.get(deviceId);
    if (!connection) return;
    this.#connections.delete(deviceId);
    connection.socket.close(code, reason);
  }

  /** Queues a durable server notice (e.g. a membership change) for the given devices. */
  async postNotice(notice: ServerNotice, channelId: string | null, deviceIds: string[], msgId: Uint8Array): Promise<void> {
    if (deviceIds.length === 0) return;
    const now = this.#now();
    await this.committer.send({
      senderAccount: null, senderDevice: null, msgId, channelId, sentAt: now, expiresAt: now + this.#maxTtlMs,
      parts: [{ body: encodeFrame(notice), devices: deviceIds }],
    });
  }

  close(): void {
    clearInterval(this.#heartbeat);
    this.committer.flush();
    for (const connection of this.#connections.values()) connection.socket.close(CLOSE_SHUTDOWN, 'server shutting down');
    this.#connections.clear();
  }

  /** How many bytes wait in the device's socket (null when it is not connected); for monitoring. */
  bufferedBytes(deviceId: string): number | null {
    return this.#connections.get(deviceId)?.socket.bufferedAmount ?? null;
  }

  #checkHeartbeats(): void {
    for (const connection of [...this.#connections.values()]) {
      if (connection.unansweredPing) {
        // The ping waits in the stream behind what we sent before it: a client still working through a backlog
        // (on a slow or busy machine) reads it late. Taking more of our frames since the ping proves it reads, so it
        // gets another period; pongs of its own prove nothing (only the echo of our ping, or reading, counts).
        if (connection.drained > connection.drainedAtPing) {
          connection.drainedAtPing = connection.drained;
          continue;
        }
        this.#connections.delete(connection.deviceId);
        connection.socket.terminate();
        continue;
      }
      connection.unansweredPing = randomBytes(8);
      connection.drainedAtPing = connection.drained;
      connection.socket.ping(connection.unansweredPing);
    }
  }

  /**
   * The client stopped reading: drop it. terminate(), not close(): a close frame would only queue behind what is
   * stuck. Nothing is lost: envelopes stay in the database until acknowledged, and a client that reconnects gets
   * them again; signals were never stored.
   */
  #dropSlow(connection: Connection): void {
    if (this.#connections.get(connection.deviceId) === connection) this.#connections.delete(connection.deviceId);
    this.#log.warn({ deviceId: connection.deviceId, buffered: connection.socket.bufferedAmount }, 'slow consumer dropped');
    connection.socket.terminate();
  }

  #onMessage(connection: Connection, data: Buffer, isBinary: boolean): void {
    // A socket being closed (revoked, suspended, replaced) may still deliver frames: it no longer speaks for anyone.
    if (this.#connections.get(connection.deviceId) !== connection) return;
    if (!isBinary) {
      connection.send({ t: 'error', rid: null, code: 'bad_frame', message: 'frames must be binary CBOR' });
      return;
    }
    let frame: ClientFrame;
    try {
      frame = decodeClientFrame(data);
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      connection.send({ t: 'error', rid: requestIdOf(data), code: 'bad_frame', message: error.message });
      return;
    }
    try {
      this.#handle(connection, frame);
    } catch (error) {
      this.#replyError(connection, frame.rid, error);
    }
  }

  #handle(connection: Connection, frame: ClientFrame): void {
    switch (frame.t) {
      case 'send':
      case 'channel_send':
        this.#track(connection, this.committer.send(this.#authorise(connection, frame)), frame.rid,
          (result) => (result.overQuota ? this.#quotaError(connection, frame.rid, result.overQuota) : { t: 'sent', rid: frame.rid, duplicate: result.duplicate }));
        return;
      case 'ack':
        this.#track(connection, this.committer.ack({ deviceId: connection.deviceId, seqs: frame.seqs }), frame.rid,
          (removed) => ({ t: 'acked', rid: frame.rid, removed }));
        return;
      case 'signal': {
        // Call signals are relayed live, never stored: a call offer is worthless once the callee is gone.
        const target = this.#store.getDevice(frame.to);
        if (!target || target.status !== 'active') throw new HubError('unknown_device', 'no such active device');
        const delivered = this.notify(frame.to, {
          t: 'event', kind: 'signal', from: { account: connection.accountId, device: connection.deviceId }, body: frame.body,
        });
        if (!delivered) throw new HubError('offline', 'that device is not connected');
        connection.send({ t: 'signalled', rid: frame.rid });
        return;
      }
    }
  }

  /** Resolves a send frame to concrete recipient devices, refusing anything the sender may not do. */
  #authorise(connection: Connection, frame: Extract<ClientFrame, { t: 'send' | 'channel_send' }>): SendRequest {
    const now = this.#now();
    if (frame.expiresAt <= now) throw new HubError('expired', 'the envelope has already expired');
    // The org's maximum life is a promise to every member: a sender (a client ignoring the policy, or one whose
    // clock runs ahead by more than the allowance) asking for longer is refused rather than quietly kept.
    const cap = this.#policyTtlCapMs();
    if (cap !== null && frame.expiresAt > now + cap + POLICY_CLOCK_ALLOWANCE_MS) {
      throw new HubError('over_policy', 'the envelope\'s deadline is later than the org policy allows');
    }
    const base = {
      senderAccount: connection.accountId, senderDevice: connection.deviceId, msgId: frame.msgId, sentAt: now,
      // The server keeps nothing longer than its own limit or the org's, whatever the sender asked.
      expiresAt: Math.min(frame.expiresAt, now + Math.min(this.#maxTtlMs, this.#policyTtlCapMs() ?? Infinity)),
    };
    if (frame.t === 'channel_send') {
      if (!this.#store.getMember(frame.channel, connection.accountId)) throw new HubError('not_member', 'you are not a member of that channel');
      const devices = this.#store.channelDeviceIds(frame.channel).filter((id) => id !== connection.deviceId);
      return { ...base, channelId: frame.channel, parts: [{ body: frame.body, devices }] };
    }
    const seen = new Set<string>();
    const stale: string[] = [];
    for (const { device } of frame.to) {
      if (seen.has(device)) throw new HubError('duplicate_recipient', `device ${device} appears twice`);
      seen.add(device);
      if (this.#store.getDevice(device)?.status !== 'active') stale.push(device);
    }
    if (stale.length > 0) throw new HubError('stale_devices', `not active devices: ${stale.join(',')}; refresh the device list`);
    return { ...base, channelId: null, parts: frame.to.map(({ device, body }) => ({ body, devices: [device] })) };
  }

  /** Replies once the commit settles, and pauses reading from a socket with too much awaiting the disk. */
  #track<T>(connection: Connection, promise: Promise<T>, rid: number, reply: (value: T) => ServerFrame): void {
    connection.inflight++;
    if (connection.inflight >= MAX_INFLIGHT_PER_SOCKET && !connection.paused) {
      connection.paused = true;
      connection.socket.pause();
    }
    promise.then((value) => connection.send(reply(value)), (error) => this.#replyError(connection, rid, error))
      .finally(() => {
        connection.inflight--;
        if (connection.paused && connection.inflight < MAX_INFLIGHT_PER_SOCKET / 2) {
          connection.paused = false;
          connection.socket.resume();
        }
      });
  }

  /** A send refused by a queue quota: nothing was stored, and it can pass once devices fetch their queues. */
  #quotaError(connection: Connection, rid: number, refusal: QuotaRefusal): ServerFrame {
    this.#log.warn({ deviceId: connection.deviceId, quota: refusal.quota }, 'queue quota: send refused');
    const limit = `${Math.round(refusal.limitBytes / 1024 ** 2)} MiB`;
    const message = refusal.quota === 'sender'
      ? `your account has ${limit} waiting on the relay for devices that have not fetched it yet; nothing was stored, retry later`
      : `a recipient device has ${limit} waiting on the relay; nothing was stored, retry later`;
    return { t: 'error', rid, code: 'quota_exceeded', message };
  }

  #replyError(connection: Connection, rid: number, error: unknown): void {
    if (error instanceof HubError) {
      connection.send({ t: 'error', rid, code: error.code, message: error.message });
      return;
    }
    if (isStorageFull(error)) {
      this.#log.warn({ deviceId: connection.deviceId }, 'storage full: send refused');
      connection.send({ t: 'error', rid, code: 'storage_full', message: STORAGE_FULL_MESSAGE });
      return;
    }
    this.#log.error({ err: (error as Error).message, deviceId: connection.deviceId }, 'frame handling failed');
    connection.send({ t: 'error', rid, code: 'internal', message: 'the server could not process this frame' });
  }

  #pushCommitted(results: SendResult[]): void {
    const now = this.#now();
    const corked = new Set<Connection>();
    const frameFor = deliverFramesByBody();
    for (const result of results) {
      for (const { deviceId, envelope } of result.deliveries) {
        const connection = this.#connections.get(deviceId);
        if (!connection) continue;
        if (connection.caughtUp && !connection.full && envelope.seq > connection.cursor && envelope.expiresAt > now) {
          // One commit often carries several envelopes for the same device: write them with one syscall.
          if (!corked.has(connection)) {
            corked.add(connection);
            connection.cork();
          }
          connection.sendEncoded(frameFor(envelope));
          connection.cursor = envelope.seq;
        } else {
          connection.caughtUp = false;
          this.#schedulePump(connection);
        }
      }
    }
    for (const connection of corked) connection.uncork();
  }

  #schedulePump(connection: Connection, delayMs = 0): void {
    if (connection.pumpScheduled) return;
    connection.pumpScheduled = true;
    const run = () => {
      connection.pumpScheduled = false;
      this.#pump(connection);
    };
    if (delayMs > 0) setTimeout(run, delayMs).unref();
    else setImmediate(run);
  }

  /** Replays the device's queue from the database, page by page, while the socket has room. */
  #pump(connection: Connection): void {
    if (!connection.open || this.#connections.get(connection.deviceId) !== connection) return;
    for (;;) {
      if (connection.full) {
        this.#schedulePump(connection, RETRY_WHEN_FULL_MS);
        return;
      }
      const page = this.#store.pendingFor(connection.deviceId, connection.cursor, this.#now(), PAGE);
      // Checked per frame: a page of 256 large envelopes would otherwise overshoot the high-water mark by 64 MiB.
      let pushed = 0;
      for (; pushed < page.length && !connection.full; pushed++) {
        connection.send(deliverFrame(page[pushed]!));
        connection.cursor = page[pushed]!.seq;
      }
      if (pushed < page.length) continue;
      if (page.length < PAGE) {
        connection.caughtUp = !connection.full;
        if (!connection.caughtUp) {
          this.#schedulePump(connection, RETRY_WHEN_FULL_MS);
        } else if (!connection.toldQueueEmpty) {
          // Once per connection, after the stored backlog: a client syncing ("fetch everything, then exit") knows
          // that everything queued before it connected has arrived.
          connection.toldQueueEmpty = true;
          connection.send({ t: 'event', kind: 'queue_empty' });
        }
        return;
      }
    }
  }
}

export class HubError extends CodedError<string> {
  override readonly name = 'HubError';
}
