// The engine's WebSocket against a real relay on loopback (batching, drained, requests, reconnects, revocation)
// and against a fake one that sends malformed frames, stops answering pings or closes at the wrong moment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { WebSocket as ServerSocket } from 'ws';
import { randomBytes, utf8 } from '../../../core/crypto/sodium.ts';
import { decodeClientFrame, encodeFrame, FrameError } from '../../../core/relay/frames.ts';
import type { ClientFrame, ServerFrame } from '../../../core/relay/frames.ts';
import { RelayError, RelayHttp, trustEndpoint } from '../../../core/engine/relay-http.ts';
import type { RelayEndpoint } from '../../../core/engine/relay-http.ts';
import { RelaySocket } from '../../../core/engine/relay-socket.ts';
import type { ConnectionState, Delivery, RelayEvent, RelaySocketOptions } from '../../../core/engine/relay-socket.ts';
import { createOrg, http as rawHttp, startTestServer, tempDir, WsClient } from '../../support/server-client.ts';
import type { TestUser } from '../../support/server-client.ts';

type After = { after(fn: () => unknown): void };

/** Waits for a condition by polling; the deadline only stops a broken test from hanging. */
async function until(condition: () => boolean, what: string, deadlineMs = 10_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

interface Log {
  batches: Delivery[][];
  events: RelayEvent[];
  states: [ConnectionState, number | undefined][];
  problems: Error[];
  tokensRejected: string[];
}

/** A socket with every callback recorded; onDeliveries can be replaced per test. */
function openSocket(t: After, endpoint: RelayEndpoint, token: (rejected?: string) => Promise<string>, options: Partial<RelaySocketOptions> = {}) {
  const log: Log = { batches: [], events: [], states: [], problems: [], tokensRejected: [] };
  const socket = new RelaySocket({
    endpoint,
    token: (rejected) => {
      if (rejected !== undefined) log.tokensRejected.push(rejected);
      return token(rejected);
    },
    onDeliveries: async (batch) => {
      log.batches.push(batch);
    },
    onEvent: (event) => log.events.push(event),
    onState: (state, retryInMs) => log.states.push([state, retryInMs]),
    onProblem: (error) => log.problems.push(error),
    backoff: { baseMs: 20, maxMs: 200 },
    ...options,
  });
  t.after(() => socket.stop());
  return { socket, log };
}

/** A RelayHttp logged in as the user's first device, whose token() the socket uses. */
function deviceHttp(t: After, endpoint: RelayEndpoint, user: TestUser): RelayHttp {
  const relay = new RelayHttp(endpoint);
  relay.setDevice(user.deviceId, user.devices[0]!.keys.secretKey);
  t.after(() => relay.close());
  return relay;
}

async function relayWithUsers(t: After) {
  const server = await startTestServer();
  t.after(() => server.close());
  const org = await createOrg(server);
  const bob = await org.addUser('bob');
  const endpoint = await trustEndpoint(server.url, null);
  const alice = await WsClient.connect(server.url, org.admin.token);
  t.after(() => alice.close());
  return { server, admin: org.admin, bob, endpoint, alice };
}

const hourFromNow = () => Date.now() + 3_600_000;

test('deliveries come in seq order, in serial batches: what arrives during a batch forms the next', async (t) => {
  const { admin, bob, endpoint, alice } = await relayWithUsers(t);
  const sendToBob = (n: number) => Promise.all(Array.from({ length: n }, () => alice.sendToDevices([{ device: bob.deviceId, body: randomBytes(64) }])));
  await sendToBob(150); // queued while Bob is offline

  const http = deviceHttp(t, endpoint, bob);
  let running = false;
  let overlapped = false;
  const { socket, log } = openSocket(t, endpoint, (rejected) => http.token(rejected), {
    onDeliveries: async (batch) => {
      overlapped ||= running;
      running = true;
      log.batches.push(batch);
      // While the first batch is busy, 150 more arrive live: they must wait and come as later batches.
      if (log.batches.length === 1) await sendToBob(150);
      await new Promise((resolve) => setImmediate(resolve));
      running = false;
    },
  });
  socket.start();
  await until(() => log.batches.flat().length >= 300, '300 deliveries');
  const seqs = log.batches.flat().map((d) => d.seq);
  assert.equal(seqs.length, 300);
  assert.ok(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]!), 'seq order');
  assert.ok(log.batches.length >= 2, 'more than one batch');
  assert.ok(log.batches[0]!.length <= 150, 'the first batch holds only the backlog');
  assert.ok(log.batches.every((b) => b.length >= 1 && b.length <= 500));
  assert.equal(overlapped, false);
  const first = log.batches[0]![0]!;
  assert.deepEqual(first.from, { account: admin.accountId, device: admin.deviceId });
  assert.equal(Object.getPrototypeOf(first.body), Uint8Array.prototype, 'plain Uint8Array, not a Buffer view');
  assert.equal(first.body.length, 64);

  // Acked envelopes are gone: a fresh connection has nothing to deliver.
  await socket.ack(seqs);
  await socket.stop();
  const again = openSocket(t, endpoint, (rejected) => http.token(rejected));
  await again.socket.drained(10_000);
  assert.deepEqual(again.log.batches, []);
});

test('drained() waits for the current connection\'s queue_empty and for every batch before it to be processed', async (t) => {
  const { server, bob, endpoint, alice } = await relayWithUsers(t);
  for (let i = 0; i < 40; i++) await alice.sendToDevices([{ device: bob.deviceId, body: utf8(`m${i}`) }]);
  const http = deviceHttp(t, endpoint, bob);
  let processed = 0;
  const { socket, log } = openSocket(t, endpoint, (rejected) => http.token(rejected), {
    onDeliveries: async (batch) => {
      for (const _ of batch) await new Promise((resolve) => setImmediate(resolve)); // a slow consumer
      processed += batch.length;
      await socket.ack(batch.map((d) => d.seq));
    },
  });
  await socket.drained(10_000); // starts the socket itself
  assert.equal(processed, 40);
  assert.equal(socket.state, 'online');

  // After a reconnect, the old connection's queue_empty no longer counts.
  await alice.sendToDevices([{ device: bob.deviceId, body: utf8('while away') }]);
  await until(() => processed === 41, 'the live delivery');
  const statesBefore = log.states.length;
  server.hub.disconnect(bob.deviceId, 1012, 'test restart');
  // the recorded states, not the current one: a reconnect after a short backoff can finish between two polls
  await until(() => log.states.slice(statesBefore).some(([state]) => state === 'offline'), 'the disconnect');
  await socket.drained(10_000);
  assert.equal(socket.state, 'online');
  assert.equal(log.events.filter((e) => e.kind === 'queue_empty').length, 2);
  assert.equal(processed, 41, 'acked envelopes are not delivered again');
});

test('requests are answered by rid; error frames become RelayErrors with the relay\'s code', async (t) => {
  const { server, admin, bob, endpoint, alice } = await relayWithUsers(t);
  const http = deviceHttp(t, endpoint, bob);
  const { socket, log } = openSocket(t, endpoint, (rejected) => http.token(rejected));
  socket.start();
  // Made before the connection is up: it waits for it rather than failing.
  const msgId = randomBytes(16);
  const first = socket.send(msgId, hourFromNow(), [{ device: admin.deviceId, body: utf8('hello') }]);
  assert.notEqual(socket.state, 'online');
  assert.deepEqual(await first, { duplicate: false });
  assert.deepEqual(await socket.send(msgId, hourFromNow(), [{ device: admin.deviceId, body: utf8('hello') }]), { duplicate: true });
  const delivered = await alice.waitForDeliveries(1);
  assert.deepEqual(new Uint8Array(delivered[0]!.msgId), msgId);

  const channel = await rawHttp<{ channelId: string }>(server.url, 'POST', '/v1/channels', { token: admin.token, json: { name: 'AA' } });
  await assert.rejects(socket.channelSend(randomBytes(16), hourFromNow(), channel.body.channelId, utf8('x')), { code: 'not_member' });
  await rawHttp(server.url, 'POST', `/v1/channels/${channel.body.channelId}/members`, { token: admin.token, json: { accountIds: [bob.accountId] } });
  assert.deepEqual(await socket.channelSend(randomBytes(16), hourFromNow(), channel.body.channelId, utf8('to the channel')), { duplicate: false });

  await assert.rejects(socket.send(randomBytes(16), hourFromNow(), [{ device: 'B'.repeat(22), body: utf8('x') }]), { code: 'stale_devices', status: 0 });
  await assert.rejects(socket.send(randomBytes(16), Date.now() - 1000, [{ device: admin.deviceId, body: utf8('x') }]), { code: 'expired' });
  await assert.rejects(socket.send(randomBytes(15), hourFromNow(), [{ device: admin.deviceId, body: utf8('x') }]), { code: 'bad_frame' });
  // Too large for one frame: refused here, because the relay would drop the whole socket (and every other request).
  const big = Array.from({ length: 3 }, () => ({ device: admin.deviceId, body: new Uint8Array(100_000) }));
  await assert.rejects(socket.send(randomBytes(16), hourFromNow(), big), { code: 'too_large' });

  // Signals: live to an online device, refused for one that is not connected.
  await socket.signal(admin.deviceId, utf8('offer'));
  await alice.waitFor(() => alice.frames.some((f) => f.t === 'event' && f.kind === 'signal'));
  alice.send({ t: 'signal', rid: alice.nextRid(), to: bob.deviceId, body: utf8('answer') });
  await until(() => log.events.some((e) => e.kind === 'signal'), 'a signal');
  const signal = log.events.find((e) => e.kind === 'signal') as Extract<RelayEvent, { kind: 'signal' }>;
  assert.deepEqual({ ...signal, body: [...signal.body] }, { t: 'event', kind: 'signal', from: { account: admin.accountId, device: admin.deviceId }, body: [...utf8('answer')] });
  await alice.close();
  await until(() => !server.hub.isOnline(admin.accountId), 'alice offline');
  await assert.rejects(socket.signal(admin.deviceId, utf8('offer')), { code: 'offline' });

  // Acks in frames of at most 1000 seqs; acking seqs that are not ours is harmless.
  await socket.ack(Array.from({ length: 2500 }, (_, i) => i + 1));
  await socket.ack([]);
  assert.deepEqual(log.problems, []);
});

test('reconnects after the relay restarts on the same port and data, logging in again', async (t) => {
  const dataDir = tempDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  let server = await startTestServer({ dataDir });
  t.after(() => server.close());
  const port = server.port;
  const org = await createOrg(server);
  const bob = await org.addUser('bob');
  const endpoint = await trustEndpoint(server.url, null);
  const http = deviceHttp(t, endpoint, bob);
  const { socket, log } = openSocket(t, endpoint, (rejected) => http.token(rejected));
  socket.start();
  await socket.waitOnline(10_000);
  const tokenBefore = await http.token();

  await server.close();
  await until(() => log.states.some(([state, retry]) => state === 'offline' && retry !== undefined), 'a scheduled reconnect');
  // Requests made while the relay is down wait for it.
  const pending = socket.send(randomBytes(16), hourFromNow(), [{ device: org.admin.deviceId, body: utf8('after the restart') }]);
  server = await startTestServer({ dataDir, port });
  await socket.waitOnline(10_000);
  assert.deepEqual(await pending, { duplicate: false });
  // A restart signs everyone out: the upgrade was refused once and the token callback logged in afresh.
  assert.deepEqual(log.tokensRejected, [tokenBefore]);
  assert.notEqual(await http.token(), tokenBefore);
  // The relay was up when it refused the token: the socket logged in again at once, with no backoff wait.
  assert.deepEqual(log.states.slice(-3), [['offline', 0], ['connecting', undefined], ['online', undefined]]);
  const admin = await WsClient.connect(server.url, await deviceHttp(t, endpoint, org.admin).token());
  t.after(() => admin.close());
  const delivered = await admin.waitForDeliveries(1);
  assert.deepEqual(new Uint8Array(delivered[0]!.body), utf8('after the restart'));
});

test('a revoked device\'s socket stops for good', async (t) => {
  const { server, bob, endpoint } = await relayWithUsers(t);
  const phone = await bob.linkDevice();
  const http = new RelayHttp(endpoint);
  t.after(() => http.close());
  http.setDevice(phone.deviceId, phone.keys.secretKey);
  const { socket, log } = openSocket(t, endpoint, (rejected) => http.token(rejected));
  socket.start();
  await socket.waitOnline(10_000);
  const revoked = await rawHttp(server.url, 'POST', `/v1/devices/${phone.deviceId}/revoke`, { token: bob.token, json: bob.nextDeviceList([bob.deviceId]) });
  assert.equal(revoked.status, 200);
  await until(() => log.problems.some((p) => p instanceof RelayError && p.code === 'revoked'), 'the revocation');
  assert.equal(socket.state, 'offline');
  assert.deepEqual(log.states.at(-1), ['offline', undefined], 'no reconnect scheduled');
  await assert.rejects(socket.send(randomBytes(16), hourFromNow(), [{ device: bob.deviceId, body: utf8('x') }]), { code: 'revoked' });
  await assert.rejects(socket.drained(), { code: 'revoked' });
  assert.throws(() => socket.start(), { code: 'revoked' });
});

// ---------------------------------------------------------------- a fake relay

interface FakeRelay {
  endpoint: RelayEndpoint;
  connections: ServerSocket[];
  frames: ClientFrame[];
  onConnection: (socket: ServerSocket) => void;
  onFrame: (socket: ServerSocket, frame: ClientFrame) => void;
}

async function fakeRelay(t: After, options: { autoPong?: boolean } = {}): Promise<FakeRelay> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong: options.autoPong ?? true });
  await once(wss, 'listening');
  const fake: FakeRelay = {
    endpoint: { server: `http://127.0.0.1:${(wss.address() as AddressInfo).port}`, pin: null, ca: null },
    connections: [], frames: [], onConnection: () => {}, onFrame: () => {},
  };
  wss.on('connection', (socket) => {
    fake.connections.push(socket);
    socket.on('message', (data: Buffer) => {
      const frame = decodeClientFrame(data);
      fake.frames.push(frame);
      fake.onFrame(socket, frame);
    });
    fake.onConnection(socket);
  });
  t.after(() => new Promise<void>((resolve) => {
    for (const socket of wss.clients) socket.terminate();
    wss.close(() => resolve());
  }));
  return fake;
}

const send = (socket: ServerSocket, frame: ServerFrame) => socket.send(encodeFrame(frame));
const deliver = (seq: number): ServerFrame => ({
  t: 'deliver', seq, msgId: randomBytes(16), from: { account: 'A'.repeat(22), device: 'D'.repeat(22) }, channel: null, body: utf8(`m${seq}`), sentAt: 1, expiresAt: hourFromNow(),
});
const token = async () => 'fake-token';

test('malformed frames from the relay are reported and skipped; the socket keeps working', async (t) => {
  const fake = await fakeRelay(t);
  fake.onConnection = (socket) => {
    socket.send(Buffer.from([0xff, 0x00, 0x13])); // not CBOR
    socket.send('a text frame');
    socket.send(encodeFrame({ t: 'deliver', seq: 0 } as unknown as ServerFrame)); // CBOR of the wrong shape
    socket.send(encodeFrame({ t: 'event', kind: 'surprise' } as unknown as ServerFrame));
    send(socket, { t: 'error', rid: null, code: 'internal', message: 'something broke' });
    send(socket, { t: 'sent', rid: 999, duplicate: false }); // a reply nobody waits for
    send(socket, deliver(1));
    send(socket, { t: 'event', kind: 'queue_empty' });
  };
  fake.onFrame = (socket, frame) => {
    if (frame.t === 'send') send(socket, { t: 'acked', rid: frame.rid, removed: 0 }); // the wrong kind of reply
  };
  const { socket, log } = openSocket(t, fake.endpoint, token);
  await socket.drained(5000);
  assert.deepEqual(log.batches.flat().map((d) => d.seq), [1]);
  assert.equal(log.problems.filter((p) => p instanceof FrameError).length, 4);
  assert.ok(log.problems.some((p) => p instanceof RelayError && p.code === 'internal'));
  await assert.rejects(socket.send(randomBytes(16), hourFromNow(), [{ device: 'D'.repeat(22), body: utf8('x') }]), { code: 'bad_reply' });
  assert.equal(fake.connections.length, 1, 'no reconnect was needed');
  assert.equal(socket.state, 'online');
});

test('batches hold at most 500 deliveries; a handler that throws is reported and processing goes on', async (t) => {
  const fake = await fakeRelay(t);
  fake.onConnection = (socket) => {
    for (let seq = 1; seq <= 1200; seq++) send(socket, deliver(seq));
    send(socket, { t: 'event', kind: 'queue_empty' });
  };
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const { socket, log } = openSocket(t, fake.endpoint, token, {
    onDeliveries: async (batch) => {
      log.batches.push(batch);
      if (log.batches.length === 1) await released;
      if (log.batches.length === 2) throw new Error('handler failed');
    },
    onEvent: (event) => {
      log.events.push(event);
      if (event.kind === 'queue_empty') release();
    },
  });
  await socket.drained(5000);
  assert.deepEqual(log.batches.flat().map((d) => d.seq), Array.from({ length: 1200 }, (_, i) => i + 1));
  assert.ok(log.batches.length >= 3);
  assert.ok(log.batches.every((b) => b.length <= 500));
  assert.ok(log.batches.slice(1).some((b) => b.length === 500), 'the backlog behind the first batch is cut at 500');
  assert.deepEqual(log.problems.map((p) => p.message), ['handler failed']);
});

test('a close before the reply rejects with closed; a silent relay is dropped by the heartbeat; 4002 is final', async (t) => {
  const fake = await fakeRelay(t, { autoPong: false });
  fake.onFrame = (socket, frame) => {
    if (frame.t === 'send' && fake.connections.length === 1) socket.close(1011, 'oops'); // never answers, closes
    if (frame.t === 'send' && fake.connections.length >= 3) socket.close(4002, 'account suspended');
    if (frame.t === 'ack') send(socket, { t: 'acked', rid: frame.rid, removed: frame.seqs.length });
  };
  const { socket, log } = openSocket(t, fake.endpoint, token, { heartbeatMs: 50 });
  socket.start();
  await socket.waitOnline(5000);
  await assert.rejects(socket.send(randomBytes(16), hourFromNow(), [{ device: 'D'.repeat(22), body: utf8('x') }]), { code: 'closed' });

  // The second connection is up; the fake relay never answers pings, so the client drops it and reconnects.
  await until(() => fake.connections.length >= 3, 'a reconnect after missed pongs');
  assert.ok(log.problems.some((p) => p instanceof RelayError && p.code === 'timeout'));
  await socket.waitOnline(5000);
  await socket.ack([1, 2, 3]);

  const sent = socket.send(randomBytes(16), hourFromNow(), [{ device: 'D'.repeat(22), body: utf8('x') }]);
  await assert.rejects(sent, { code: 'closed' });
  await until(() => log.problems.some((p) => p instanceof RelayError && p.code === 'suspended'), 'the suspension');
  assert.deepEqual(log.states.at(-1), ['offline', undefined]);
  await assert.rejects(socket.ack([1]), { code: 'suspended' });
  const connections = fake.connections.length;
  await socket.stop();
  assert.equal(fake.connections.length, connections);
});
