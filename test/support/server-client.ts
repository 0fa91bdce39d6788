// A minimal real client for the relay: HTTP with fetch, WebSocket with ws, Ed25519 login through
// core/crypto/sodium.ts. Tests and the relay benchmark use it; it stands in for the protocol library, so device
// certificates and lists here are simple JSON documents signed with the account key.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import {
  fromBase64Url, randomBytes, sign, signingKeyPair, toBase64Url, utf8,
} from '../../core/crypto/sodium.ts';
import type { SigningKeyPair } from '../../core/crypto/sodium.ts';
import { startServer } from '../../server/app.ts';
import type { RunningServer, StartOptions } from '../../server/app.ts';
import { authMessage, recoveryInfoMessage, recoveryMessage } from '../../core/relay/challenge-messages.ts';
import { deviceIdFor } from '../../server/ids.ts';
import { parseInviteLink } from '../../core/relay/invite-link.ts';
import { Decoder } from 'cbor-x';
import { encodeFrame } from '../../core/relay/frames.ts';
import type { ClientFrame, ServerFrame, ServerNotice } from '../../core/relay/frames.ts';

// Plain CBOR decoding (the server's own settings): the relay tests check frame contents themselves and stay
// independent of the client engine's stricter frame schema.
const frameDecoder = new Decoder({ useRecords: false, mapsAsObjects: true });
const decodeServerFrame = (data: Uint8Array) => frameDecoder.decode(data) as ServerFrame;
export const decodeNotice = (body: Uint8Array) => frameDecoder.decode(body) as ServerNotice;

const tempDirs: string[] = [];

/** A temporary directory, removed when the test process exits (each test file runs in its own process). */
export function tempDir(prefix = 'wardroom-server-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  if (tempDirs.length === 0) process.once('exit', () => tempDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  tempDirs.push(dir);
  return dir;
}

/**
 * A real server on 127.0.0.1, a random port, plain HTTP, logs discarded unless a destination is given. A data
 * directory it made itself is deleted on close.
 */
export async function startTestServer(options: Partial<StartOptions> = {}): Promise<RunningServer & { dataDir: string }> {
  const dataDir = options.dataDir ?? tempDir();
  const server = await startServer({
    insecureHttp: true, host: '127.0.0.1', port: 0, logLevel: 'silent', ...options, dataDir,
  });
  const close = server.close.bind(server);
  const ownDir = options.dataDir === undefined;
  return Object.assign(server, {
    dataDir,
    async close() {
      await close();
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

export interface Reply<T = Record<string, unknown>> {
  status: number;
  body: T & { error?: { code: string; message: string } };
}

export async function http<T = Record<string, unknown>>(baseUrl: string, method: string, route: string,
  options: { token?: string; json?: unknown; raw?: Uint8Array | string; contentType?: string; headers?: Record<string, string> } = {}): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | Uint8Array | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.raw !== undefined) {
    headers['content-type'] = options.contentType ?? 'application/octet-stream';
    body = options.raw;
  }
  const response = await fetch(baseUrl + route, { method, headers, body: body as RequestInit['body'] });
  const text = await response.text();
  let parsed: unknown = {};
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = { raw: text };
  }
  return { status: response.status, body: parsed as Reply<T>['body'] };
}

export function signed(data: Uint8Array, secretKey: Uint8Array) {
  return { data: toBase64Url(data), signature: toBase64Url(sign(data, secretKey)) };
}

export const inviteCode = (link: string): string => parseInviteLink(link).code;

export interface TestDevice {
  keys: SigningKeyPair;
  deviceId: string;
  token: string;
}

/** One account with one or more devices, able to sign its own device certificates and lists. */
export class TestUser {
  readonly url: string;
  readonly username: string;
  readonly accountKeys: SigningKeyPair;
  accountId = '';
  deviceListVersion = 0;
  readonly devices: TestDevice[] = [];

  constructor(url: string, username: string) {
    this.url = url;
    this.username = username;
    this.accountKeys = signingKeyPair();
  }

  get token(): string {
    return this.devices[0]!.token;
  }

  get deviceId(): string {
    return this.devices[0]!.deviceId;
  }

  certificate(keys: SigningKeyPair) {
    return signed(utf8(JSON.stringify({ deviceId: deviceIdFor(keys.publicKey), key: toBase64Url(keys.publicKey) })), this.accountKeys.secretKey);
  }

  nextDeviceList(deviceIds: string[]) {
    this.deviceListVersion++;
    return {
      deviceList: signed(utf8(JSON.stringify({ version: this.deviceListVersion, devices: deviceIds })), this.accountKeys.secretKey),
      deviceListVersion: this.deviceListVersion,
    };
  }

  static async signUp(url: string, username: string, code: string): Promise<TestUser> {
    const user = new TestUser(url, username);
    const keys = signingKeyPair();
    const deviceId = deviceIdFor(keys.publicKey);
    const reply = await http<{ accountId: string; deviceId: string }>(url, 'POST', '/v1/accounts', {
      json: {
        inviteCode: code, username, accountPublicKey: toBase64Url(user.accountKeys.publicKey),
        device: { signingPublicKey: toBase64Url(keys.publicKey), certificate: user.certificate(keys) },
        ...user.nextDeviceList([deviceId]),
      },
    });
    if (reply.status !== 201) throw new Error(`sign-up failed: ${reply.status} ${JSON.stringify(reply.body)}`);
    user.accountId = reply.body.accountId;
    user.devices.push({ keys, deviceId, token: await login(url, keys) });
    return user;
  }

  /** Links a second device: it registers as pending, then the first device approves it. */
  async linkDevice(approver = this.devices[0]!): Promise<TestDevice> {
    const keys = signingKeyPair();
    const pending = await http<{ deviceId: string }>(this.url, 'POST', '/v1/devices/pending', {
      json: { username: this.username, signingPublicKey: toBase64Url(keys.publicKey) },
    });
    if (pending.status !== 201) throw new Error(`link failed: ${JSON.stringify(pending.body)}`);
    const deviceId = pending.body.deviceId;
    const approved = await http(this.url, 'POST', `/v1/devices/${deviceId}/approve`, {
      token: approver.token,
      json: { certificate: this.certificate(keys), ...this.nextDeviceList([...this.devices.map((d) => d.deviceId), deviceId]) },
    });
    if (approved.status !== 200) throw new Error(`approve failed: ${JSON.stringify(approved.body)}`);
    const device = { keys, deviceId, token: await login(this.url, keys) };
    this.devices.push(device);
    return device;
  }

  recoverySignature(challenge: string, deviceId: string, message = recoveryMessage): string {
    return toBase64Url(sign(message(fromBase64Url(challenge), deviceId), this.accountKeys.secretKey));
  }

  recoveryInfoSignature(challenge: string, deviceId: string): string {
    return this.recoverySignature(challenge, deviceId, recoveryInfoMessage);
  }
}

export async function login(url: string, keys: SigningKeyPair, totp?: string): Promise<string> {
  const reply = await loginReply(url, keys, totp);
  if (reply.status !== 200) throw new Error(`login failed: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body.token;
}

export async function loginReply(url: string, keys: SigningKeyPair, totp?: string): Promise<Reply<{ token: string; secondFactor: boolean }>> {
  const deviceId = deviceIdFor(keys.publicKey);
  const challenge = await http<{ challenge: string }>(url, 'POST', '/v1/auth/challenge', { json: { deviceId } });
  if (challenge.status !== 200) return challenge as unknown as Reply<{ token: string; secondFactor: boolean }>;
  const signature = toBase64Url(sign(authMessage(fromBase64Url(challenge.body.challenge), deviceId), keys.secretKey));
  return http(url, 'POST', '/v1/auth/session', {
    json: { deviceId, challenge: challenge.body.challenge, signature, ...(totp ? { totp } : {}) },
  });
}

/** An org with an admin (who redeemed the first-start invite) and helpers to add members. */
export async function createOrg(server: { url: string; firstAdminInvite: string | null }): Promise<{ admin: TestUser; addUser(name: string): Promise<TestUser> }> {
  if (!server.firstAdminInvite) throw new Error('server has no first-start invite');
  const admin = await TestUser.signUp(server.url, 'admin', inviteCode(server.firstAdminInvite));
  return {
    admin,
    async addUser(name: string) {
      const invite = await http<{ code: string }>(server.url, 'POST', '/v1/admin/invites', { token: admin.token, json: {} });
      return TestUser.signUp(server.url, name, invite.body.code);
    },
  };
}

type Deliver = Extract<ServerFrame, { t: 'deliver' }>;

/**
 * A device's WebSocket. Records every frame (unless `record` is off: a benchmark's load generator should not keep
 * hundreds of thousands of frames alive for the garbage collector to trace); `autoAck` acknowledges deliveries.
 */
export class WsClient {
  readonly socket: WebSocket;
  readonly frames: ServerFrame[] = [];
  readonly deliveries: Deliver[] = [];
  #rid = 1;
  #waiters: { predicate: () => boolean; resolve: () => void }[] = [];
  autoAck: boolean;
  closeCode: number | null = null;
  /**
   * Called for every frame, before waiters are checked. Set it through connect's options when the first frames
   * matter: the relay pushes a backlog at once, and frames read with the upgrade's answer arrive before connect's
   * caller runs again.
   */
  onFrame: ((frame: ServerFrame, client: WsClient) => void) | null;

  private constructor(socket: WebSocket, autoAck: boolean, record: boolean, onFrame: WsClient['onFrame']) {
    this.socket = socket;
    this.autoAck = autoAck;
    this.onFrame = onFrame;
    socket.binaryType = 'nodebuffer';
    socket.on('message', (data: Buffer) => {
      const frame = decodeServerFrame(data);
      if (record) this.frames.push(frame);
      this.onFrame?.(frame, this);
      if (frame.t === 'deliver') {
        if (record) this.deliveries.push(frame);
        if (this.autoAck) this.send({ t: 'ack', rid: this.nextRid(), seqs: [frame.seq] });
      }
      this.#check();
    });
    socket.on('close', (code) => {
      this.closeCode = code;
      this.#check();
    });
  }

  static connect(url: string, token: string, options: { autoAck?: boolean; record?: boolean; onFrame?: WsClient['onFrame'] } = {}): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/ws`, { headers: { authorization: `Bearer ${token}` } });
      const client = new WsClient(socket, options.autoAck ?? false, options.record ?? true, options.onFrame ?? null);
      socket.once('open', () => resolve(client));
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) => reject(new Error(`websocket refused: ${res.statusCode}`)));
    });
  }

  nextRid(): number {
    return this.#rid++;
  }

  send(frame: ClientFrame): void {
    this.socket.send(encodeFrame(frame));
  }

  sendRaw(data: Uint8Array | string, binary = true): void {
    this.socket.send(data, { binary });
  }

  /** Sends a request frame and resolves with the reply carrying its rid (sent/acked/signalled/error). */
  request(frame: ClientFrame, timeoutMs = 5000): Promise<ServerFrame> {
    const from = this.frames.length; // replies to earlier frames that reused this rid do not count
    this.send(frame);
    return this.waitFor(() => this.frames.slice(from).find((f) => 'rid' in f && f.rid === frame.rid), timeoutMs);
  }

  sendToDevices(to: { device: string; body: Uint8Array }[], msgId = randomBytes(16), expiresAt = Date.now() + 3_600_000) {
    return this.request({ t: 'send', rid: this.nextRid(), msgId, expiresAt, to });
  }

  sendToChannel(channel: string, body: Uint8Array, msgId = randomBytes(16), expiresAt = Date.now() + 3_600_000, timeoutMs = 5000) {
    return this.request({ t: 'channel_send', rid: this.nextRid(), msgId, expiresAt, channel, body }, timeoutMs);
  }

  ack(seqs: number[]) {
    return this.request({ t: 'ack', rid: this.nextRid(), seqs });
  }

  waitFor<T>(find: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
    const found = find();
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out waiting; frames so far: ${JSON.stringify(this.frames.slice(-5).map((f) => f.t))}`));
      }, timeoutMs);
      const waiter = {
        predicate: () => Boolean(find()),
        resolve: () => {
          clearTimeout(timer);
          resolve(find() as T);
        },
      };
      this.#waiters.push(waiter);
    });
  }

  waitForDeliveries(count: number, timeoutMs = 5000): Promise<Deliver[]> {
    return this.waitFor(() => this.deliveries.length >= count && this.deliveries, timeoutMs);
  }

  waitForClose(timeoutMs = 5000): Promise<number> {
    return this.waitFor(() => this.closeCode ?? undefined, timeoutMs);
  }

  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }

  #check(): void {
    for (const waiter of [...this.#waiters]) {
      if (waiter.predicate()) {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        waiter.resolve();
      }
    }
  }
}
