// The engine's WebSocket to the relay (docs/server-api.md section 5): envelopes in, sends and acks out. One socket,
// kept open with jittered reconnects until stop(). Deliveries are handed to the engine in batches, one batch at a
// time: whatever arrives while a batch is being processed waits and forms the next one, so a long backlog costs
// a few large vault transactions instead of one per message. Every frame from the relay is checked
// (decodeServerFrame); a bad one is reported and skipped, never fatal.
import WebSocket from 'ws';
import { createBackoff } from '../net/backoff.ts';
import { decodeServerFrame, encodeFrame, FrameError, MAX_ACKS_PER_FRAME, MAX_FRAME_BYTES } from '../relay/frames.ts';
import type { ClientFrame, ServerFrame } from '../relay/frames.ts';
import { pinnedTlsOptions, RelayError, resolveEndpoint, transportError, UntrustedRelayError } from './relay-http.ts';
import type { RelayEndpoint, ResolvedEndpoint } from './relay-http.ts';

/** `untrusted` is final: the server failed the pin (UntrustedRelayError), and the socket does not try again. */
export type ConnectionState = 'connecting' | 'online' | 'offline' | 'untrusted';
export type Delivery = Extract<ServerFrame, { t: 'deliver' }>;
export type RelayEvent = Extract<ServerFrame, { t: 'event' }>;

export interface RelaySocketOptions {
  endpoint: RelayEndpoint;
  /**
   * A session token. `rejected` is the token the relay just refused (401 on the upgrade, e.g. after a restart):
   * log in afresh. `(rejected) => http.token(rejected)` does exactly that.
   */
  token: (rejected?: string) => Promise<string>;
  /**
   * Called serially, never concurrently: deliveries that arrive while a batch is processing are collected and
   * passed as the next batch (at most 500 per batch), in the order received. The socket acks nothing itself.
   */
  onDeliveries: (batch: Delivery[]) => Promise<void>;
  /** Every event frame, queue_empty included. */
  onEvent?: (event: RelayEvent) => void;
  /**
   * On every state change; 'offline' carries retryInMs when a reconnect is scheduled, none when it is final;
   * 'untrusted' carries the UntrustedRelayError that stopped the socket (its message is one line for the user).
   */
  onState?: (state: ConnectionState, retryInMs?: number, reason?: UntrustedRelayError) => void;
  /**
   * Something went wrong that the socket survives (a malformed frame, a handler error, a failed connection
   * attempt), or the reason it stopped for good (RelayError 'revoked' or 'suspended', or an UntrustedRelayError).
   */
  onProblem?: (error: Error) => void;
  backoff?: { baseMs: number; maxMs: number };
  heartbeatMs?: number;
  requestTimeoutMs?: number;
}

const MAX_BATCH = 500;
/** ws counts the whole message against maxPayload; the relay's own limit is on the frame it encodes. */
const PAYLOAD_SLACK = 1024;
const CLOSE_REPLACED = 4000;
const CLOSE_REVOKED = 4001;
const CLOSE_SUSPENDED = 4002;
const MAX_RID = 2 ** 31;

type ReplyKind = 'sent' | 'acked' | 'signalled';
type Reply<K extends ReplyKind> = Extract<ServerFrame, { t: K }>;

interface Request {
  rid: number;
  bytes: Uint8Array;
  expect: ReplyKind;
  resolve: (frame: ServerFrame) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

interface Waiter {
  ready: () => boolean;
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | null;
}

/** Byte fields decoded from a frame are Buffers sharing its memory; the engine gets plain, separate copies. */
const plain = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes);

export class RelaySocket {
  readonly #options: RelaySocketOptions;
  readonly #target: ResolvedEndpoint;
  readonly #backoff: ReturnType<typeof createBackoff>;
  readonly #heartbeatMs: number;
  readonly #requestTimeoutMs: number;
  #state: ConnectionState = 'offline';
  #running = false;
  /** Set by stop() or a terminal close: every request from then on fails with it. */
  #finished: RelayError | UntrustedRelayError | null = null;
  #ws: WebSocket | null = null;
  /** Counts opened connections; queue_empty is remembered per connection. */
  #connection = 0;
  #retryTimer: NodeJS.Timeout | null = null;
  #heartbeatTimer: NodeJS.Timeout | null = null;
  #awaitingPong = false;
  #rejectedToken: string | undefined;
  #nextRid = 1;
  /** Sent, awaiting the reply with their rid. */
  readonly #inFlight = new Map<number, Request>();
  /** Waiting for a connection. */
  #outbox: Request[] = [];
  readonly #waiters = new Set<Waiter>();
  #inbox: Delivery[] = [];
  #processing: Promise<void> | null = null;
  #received = 0;
  #processed = 0;
  /** A connection attempt has ended, online or not: the pin was checked (or could not be). */
  #attemptEnded = false;
  /** The current connection's queue_empty, and how many deliveries had been received when it came. */
  #queueEmpty: { connection: number; received: number } | null = null;

  constructor(options: RelaySocketOptions) {
    this.#options = options;
    this.#target = resolveEndpoint(options.endpoint);
    this.#backoff = createBackoff(options.backoff ?? { baseMs: 500, maxMs: 30_000 });
    this.#heartbeatMs = options.heartbeatMs ?? 20_000;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Connects, and keeps reconnecting until stop() or a terminal close. A stopped socket cannot be restarted. */
  start(): void {
    if (this.#finished) throw this.#finished;
    if (this.#running) return;
    this.#running = true;
    void this.#connect();
  }

  /**
   * Closes the connection. Requests still waiting reject with RelayError('closed'); deliveries not yet handed
   * over are dropped (unacked, the relay keeps them). When it resolves, onDeliveries is not running and will not
   * be called again.
   */
  async stop(): Promise<void> {
    this.#running = false;
    const closed = new RelayError('closed', 'the relay connection was stopped');
    this.#finished ??= closed;
    this.#clearTimers();
    const ws = this.#ws;
    this.#ws = null;
    this.#failAll(closed);
    this.#inbox = [];
    if (this.#state !== 'untrusted') this.#setState('offline'); // the alarm stands until someone acts on it
    if (ws) await closeSocket(ws);
    await this.#processing;
  }

  /** Resolves once online. Without a timeout it waits until stop() or a terminal close. */
  waitOnline(timeoutMs?: number): Promise<void> {
    return this.#wait(() => this.#state === 'online', timeoutMs, 'online');
  }

  /**
   * Resolves once the first connection attempt has ended, online or not: by then a relay that fails the pin has
   * stopped the socket (and this rejects with its UntrustedRelayError, as it does once stopped for any reason).
   */
  firstAttempt(timeoutMs: number): Promise<void> {
    return this.#wait(() => this.#attemptEnded, timeoutMs, 'tried');
  }

  /**
   * Resolves once the relay's queue_empty for the current connection has arrived and every delivery received
   * before it has been through onDeliveries: everything queued for this device before it connected is handled.
   * Starts the socket if needed.
   */
  drained(timeoutMs?: number): Promise<void> {
    if (!this.#running && !this.#finished) this.start();
    return this.#wait(() => this.#queueEmpty !== null && this.#queueEmpty.connection === this.#connection
      && this.#processed >= this.#queueEmpty.received, timeoutMs, 'drained');
  }

  /** Stores one envelope per device (idempotent by msgId). The encoded frame must fit MAX_FRAME_BYTES. */
  async send(msgId: Uint8Array, expiresAt: number, to: { device: string; body: Uint8Array }[]): Promise<{ duplicate: boolean }> {
    const reply = await this.#request((rid) => ({ t: 'send', rid, msgId, expiresAt, to }), 'sent');
    return { duplicate: reply.duplicate };
  }

  /** One body fanned out by the relay to every other member device of the channel. */
  async channelSend(msgId: Uint8Array, expiresAt: number, channel: string, body: Uint8Array): Promise<{ duplicate: boolean }> {
    const reply = await this.#request((rid) => ({ t: 'channel_send', rid, msgId, expiresAt, channel, body }), 'sent');
    return { duplicate: reply.duplicate };
  }

  /** Acknowledges deliveries (the relay then deletes them), in frames of at most 1000 seqs. */
  async ack(seqs: number[]): Promise<void> {
    const frames: Promise<unknown>[] = [];
    for (let i = 0; i < seqs.length; i += MAX_ACKS_PER_FRAME) {
      const part = seqs.slice(i, i + MAX_ACKS_PER_FRAME);
      frames.push(this.#request((rid) => ({ t: 'ack', rid, seqs: part }), 'acked'));
    }
    await Promise.all(frames);
  }

  /** A live call signal to an online device; RelayError 'offline' if it is not connected. Never stored. */
  async signal(to: string, body: Uint8Array): Promise<void> {
    await this.#request((rid) => ({ t: 'signal', rid, to, body }), 'signalled');
  }

  // ---------------------------------------------------------------- requests

  #request<K extends ReplyKind>(build: (rid: number) => ClientFrame, expect: K): Promise<Reply<K>> {
    if (this.#finished) return Promise.reject(this.#finished);
    const rid = this.#nextRid;
    this.#nextRid = rid >= MAX_RID ? 1 : rid + 1;
    const bytes = encodeFrame(build(rid));
    // The relay closes the whole socket (1009) on a larger frame, failing every other request with it.
    if (bytes.length > MAX_FRAME_BYTES) {
      return Promise.reject(new RelayError('too_large', `a ${bytes.length}-byte frame is over the relay's ${MAX_FRAME_BYTES}-byte limit: ` +
        'split the recipients over several sends, each with its own msgId'));
    }
    return new Promise<Reply<K>>((resolve, reject) => {
      const request: Request = {
        rid, bytes, expect, resolve: resolve as (frame: ServerFrame) => void, reject,
        timer: setTimeout(() => {
          this.#inFlight.delete(rid);
          this.#outbox = this.#outbox.filter((r) => r !== request);
          reject(new RelayError('timeout', `no reply from the relay within ${this.#requestTimeoutMs} ms`));
        }, this.#requestTimeoutMs),
      };
      if (this.#state === 'online') this.#transmit(request);
      else this.#outbox.push(request);
    });
  }

  #transmit(request: Request): void {
    this.#inFlight.set(request.rid, request);
    // A send that fails means the socket is closing; the close handler rejects the request.
    this.#ws!.send(request.bytes, () => {});
  }

  #onReply(frame: Reply<ReplyKind> | Extract<ServerFrame, { t: 'error' }>, rid: number): void {
    const request = this.#inFlight.get(rid);
    // A reply after its request timed out: nothing waits for it any more.
    if (!request) return;
    this.#inFlight.delete(rid);
    clearTimeout(request.timer);
    if (frame.t === 'error') request.reject(new RelayError(frame.code, frame.message));
    else if (frame.t !== request.expect) request.reject(new RelayError('bad_reply', `the relay answered request ${rid} with ${frame.t}, not ${request.expect}`));
    else request.resolve(frame);
  }

  // ---------------------------------------------------------------- connection

  async #connect(): Promise<void> {
    this.#setState('connecting');
    let token: string;
    try {
      token = await this.#options.token(this.#rejectedToken);
    } catch (error) {
      if (!this.#running) return;
      // The login is the first request of a connection, so an impostor is usually met here.
      if (error instanceof UntrustedRelayError) return this.#terminate(error);
      // A device revoked or an account suspended while we were away learns it here, at login.
      const code = error instanceof RelayError ? error.code : null;
      if (code === 'device_revoked') return this.#terminate(new RelayError('revoked', 'this device was revoked', { cause: error }));
      if (code === 'suspended') return this.#terminate(new RelayError('suspended', 'this account is suspended', { cause: error }));
      this.#report(error);
      return this.#reconnectLater();
    }
    // A token from a fresh login (the last one was refused): if the relay refuses this one too, back off as usual.
    const relogin = this.#rejectedToken !== undefined;
    this.#rejectedToken = undefined;
    if (!this.#running) return;
    const { url } = this.#target;
    const ws = new WebSocket(`${url.protocol === 'https:' ? 'wss' : 'ws'}://${url.host}/v1/ws`, {
      headers: { authorization: `Bearer ${token}` },
      maxPayload: MAX_FRAME_BYTES + PAYLOAD_SLACK,
      perMessageDeflate: false, // ciphertext does not compress
      handshakeTimeout: this.#requestTimeoutMs,
      ...(this.#target.trust ? pinnedTlsOptions(this.#target) : {}),
    });
    this.#ws = ws;
    let problem: Error | null = null;
    let unauthorized = false;
    ws.on('unexpected-response', (_request, response) => {
      response.resume();
      if (response.statusCode === 401) {
        unauthorized = true;
        this.#rejectedToken = token;
      } else {
        problem = new RelayError('upgrade_refused', `the relay refused the WebSocket with HTTP ${response.statusCode}`, { status: response.statusCode ?? 0 });
      }
      ws.terminate();
    });
    ws.on('error', (error) => {
      if (!unauthorized) problem ??= transportError(error, 'relay WebSocket', url.origin);
    });
    ws.on('open', () => this.#onOpen(ws));
    ws.on('message', (data, isBinary) => {
      if (ws === this.#ws) this.#onMessage(data as Buffer, isBinary);
    });
    ws.on('pong', () => {
      this.#awaitingPong = false;
    });
    ws.on('close', (code) => this.#onClose(ws, code, problem, unauthorized && !relogin));
  }

  #onOpen(ws: WebSocket): void {
    if (ws !== this.#ws) return;
    this.#connection++;
    this.#backoff.reset();
    this.#awaitingPong = false;
    // No pong by the next ping: the connection is dead even if TCP has not noticed (a laptop lid, a NAT timeout).
    this.#heartbeatTimer = setInterval(() => {
      if (this.#awaitingPong) {
        this.#report(new RelayError('timeout', `the relay did not answer a ping within ${this.#heartbeatMs} ms; reconnecting`));
        ws.terminate();
        return;
      }
      this.#awaitingPong = true;
      ws.ping();
    }, this.#heartbeatMs);
    this.#setState('online');
    const waiting = this.#outbox;
    this.#outbox = [];
    for (const request of waiting) this.#transmit(request);
  }

  #onClose(ws: WebSocket, code: number, problem: Error | null, loginAgainNow = false): void {
    if (ws !== this.#ws) return;
    this.#ws = null;
    this.#clearTimers();
    this.#queueEmpty = null;
    const closed = new RelayError('closed', 'the relay connection closed before the reply');
    for (const request of this.#inFlight.values()) {
      clearTimeout(request.timer);
      request.reject(closed);
    }
    this.#inFlight.clear();
    if (!this.#running) return;
    if (code === CLOSE_REVOKED) return this.#terminate(new RelayError('revoked', 'this device was revoked'));
    if (code === CLOSE_SUSPENDED) return this.#terminate(new RelayError('suspended', 'this account is suspended'));
    // An impostor answers every attempt the same way: retrying would only hide the alarm behind a spinner.
    if (problem instanceof UntrustedRelayError) return this.#terminate(problem);
    if (problem) this.#report(problem);
    if (code === CLOSE_REPLACED) this.#report(new RelayError('replaced', 'another connection for this device replaced ours'));
    // A refused token is no outage (a relay restart signs everyone out): the relay is up, so log in again at once
    // instead of after the longest wait yet.
    this.#reconnectLater(loginAgainNow ? 0 : undefined);
  }

  #reconnectLater(delay = this.#backoff.next()): void {
    this.#setState('offline', delay);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (this.#running) void this.#connect();
    }, delay);
  }

  /** Revoked, suspended or an untrusted relay: no point in reconnecting, and everything waiting learns why. */
  #terminate(reason: RelayError | UntrustedRelayError): void {
    this.#running = false;
    this.#finished = reason;
    this.#clearTimers();
    this.#failAll(reason);
    if (reason instanceof UntrustedRelayError) this.#setState('untrusted', undefined, reason);
    else this.#setState('offline');
    this.#report(reason);
  }

  // ---------------------------------------------------------------- incoming frames

  #onMessage(data: Buffer, isBinary: boolean): void {
    if (!isBinary) return this.#report(new FrameError('the relay sent a text frame'));
    let frame: ServerFrame;
    try {
      frame = decodeServerFrame(data);
    } catch (error) {
      return this.#report(error);
    }
    switch (frame.t) {
      case 'deliver':
        this.#inbox.push({ ...frame, msgId: plain(frame.msgId), body: plain(frame.body) });
        this.#received++;
        this.#schedule();
        return;
      case 'event': {
        if (frame.kind === 'queue_empty') {
          this.#queueEmpty = { connection: this.#connection, received: this.#received };
          this.#checkWaiters();
        }
        const event = frame.kind === 'signal' ? { ...frame, body: plain(frame.body) } : frame;
        try {
          this.#options.onEvent?.(event);
        } catch (error) {
          this.#report(error);
        }
        return;
      }
      case 'error':
        if (frame.rid === null) return this.#report(new RelayError(frame.code, `the relay reported: ${frame.message}`));
        return this.#onReply(frame, frame.rid);
      default:
        return this.#onReply(frame, frame.rid);
    }
  }

  /**
   * Starts a processing run on the next turn, so frames read in the same burst go into the first batch; later
   * ones queue behind the running batch.
   */
  #schedule(): void {
    if (this.#processing) return;
    this.#processing = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#process());
  }

  async #process(): Promise<void> {
    while (this.#inbox.length > 0) {
      const batch = this.#inbox.splice(0, MAX_BATCH);
      try {
        await this.#options.onDeliveries(batch);
      } catch (error) {
        this.#report(error);
      }
      this.#processed += batch.length;
      this.#checkWaiters();
    }
    this.#processing = null;
  }

  // ---------------------------------------------------------------- helpers

  #setState(state: ConnectionState, retryInMs?: number, reason?: UntrustedRelayError): void {
    if (state === this.#state) return;
    if (this.#state === 'connecting') this.#attemptEnded = true;
    this.#state = state;
    try {
      this.#options.onState?.(state, retryInMs, reason);
    } catch (error) {
      this.#report(error);
    }
    this.#checkWaiters();
  }

  #wait(ready: () => boolean, timeoutMs: number | undefined, what: string): Promise<void> {
    if (this.#finished) return Promise.reject(this.#finished);
    if (ready()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        ready, resolve, reject,
        timer: timeoutMs === undefined ? null : setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(new RelayError('timeout', `the relay connection was not ${what} within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  #checkWaiters(): void {
    for (const waiter of this.#waiters) {
      if (!waiter.ready()) continue;
      this.#waiters.delete(waiter);
      if (waiter.timer) clearTimeout(waiter.timer);
      waiter.resolve();
    }
  }

  #failAll(error: RelayError | UntrustedRelayError): void {
    for (const request of [...this.#inFlight.values(), ...this.#outbox]) {
      clearTimeout(request.timer);
      request.reject(error);
    }
    this.#inFlight.clear();
    this.#outbox = [];
    for (const waiter of this.#waiters) {
      if (waiter.timer) clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.#waiters.clear();
  }

  #clearTimers(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    if (this.#heartbeatTimer) clearInterval(this.#heartbeatTimer);
    this.#retryTimer = null;
    this.#heartbeatTimer = null;
  }

  #report(error: unknown): void {
    const problem = error instanceof Error ? error : new Error(String(error));
    try {
      this.#options.onProblem?.(problem);
    } catch {
      // A failing problem reporter has nowhere left to report to.
    }
  }
}

/** Closes a socket politely, forcing it shut if the other side does not finish the close handshake. */
function closeSocket(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => ws.terminate(), 1000);
    ws.once('close', () => {
      clearTimeout(force);
      resolve();
    });
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    else ws.close(1000, 'client stopping');
  });
}
