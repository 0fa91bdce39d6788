// The envelope hub: one WebSocket per device. It turns client frames into authorised store writes (through the
// group committer), pushes committed envelopes to online devices, and replays each device's queue from the
// database when it connects or falls behind. The database is the queue; memory only speeds up the common case.
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { Logger } from 'pino';
import type { QueuedEnvelope, SendRequest, SendResult, ServerStore } from '../store/types.ts';
import { GroupCommitter } from './group-commit.ts';
import { isStorageFull, STORAGE_FULL_MESSAGE } from '../errors.ts';
import { decodeClientFrame, deliverFrameEncoder, encodeFrame, FrameError, requestIdOf } from '../../core/relay/frames.ts';
import type { ClientFrame, DeliverFrame, ServerFrame, ServerNotice } from '../../core/relay/frames.ts';

/** Above this many bytes waiting in a socket we stop pushing to it and let the queue stay in the database. */
const HIGH_WATER_BYTES = 1024 * 1024;
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
  /** Cleared at each heartbeat, set by the pong: a socket that misses a whole interval is dead. */
  alive = true;

  constructor(socket: WebSocket, accountId: string, deviceId: string) {
    this.socket = socket;
    this.accountId = accountId;
    this.deviceId = deviceId;
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

  sendEncoded(frame: Uint8Array): void {
    if (this.open) this.socket.send(frame);
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
    const connection = new Connection(socket, accountId, deviceId);
    this.#connections.set(deviceId, connection);
    socket.binaryType = 'nodebuffer';
    socket.on('message', (data, isBinary) => this.#onMessage(connection, data as Buffer, isBinary));
    socket.on('close', () => {
      if (this.#connections.get(deviceId) === connection) this.#connections.delete(deviceId);
    });
    socket.on('error', (error) => this.#log.debug({ err: error.message, deviceId }, 'socket error'));
    socket.on('pong', () => {
      connection.alive = true;
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

  #checkHeartbeats(): void {
    for (const connection of [...this.#connections.values()]) {
      if (!connection.alive) {
        this.#connections.delete(connection.deviceId);
        connection.socket.terminate();
        continue;
      }
      connection.alive = false;
      connection.socket.ping();
    }
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
          (result) => ({ t: 'sent', rid: frame.rid, duplicate: result.duplicate }));
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
      for (const envelope of page) {
        connection.send(deliverFrame(envelope));
        connection.cursor = envelope.seq;
      }
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

export class HubError extends Error {
  override readonly name = 'HubError';
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}
