// Relay benchmark: one sender to a channel of 50 and of 500 member devices over loopback WebSockets.
// Wardroom (durable: every send committed with synchronous=FULL before "sent", every delivery acked and deleted)
// is measured beside a bare `ws` broadcast relay that stores nothing, in the same run on the same machine.
// Each server runs in its own child process; all client sockets live in this process.
//
// Two figures per size:
//  - throughput: the sender keeps a window of sends in flight; delivered messages per second across all members;
//  - latency: the sender paces itself at a fixed rate well below saturation; send-to-delivery p50/p99, measured
//    with this process's clock (sender and receivers share it).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket, { WebSocketServer } from 'ws';
import { randomBytes } from '../core/crypto/sodium.ts';
import { createOrg, http, login, TestUser, WsClient } from '../test/support/server-client.ts';
import { killSpawnedServers, spawnServer } from '../test/support/server-process.ts';
import type { ServerProcess } from '../test/support/server-process.ts';
import { DeliveryCollector as Collector, percentile, report, section } from './harness.ts';

const BODY_BYTES = 256;
// Latency runs pace the sender at 2,500 deliveries/s: about a third of what the durable relay sustains here.
const ALL_SIZES = [
  { members: 50, throughputMessages: 2000, latencyMessages: 300, latencyRatePerSecond: 50 },
  { members: 500, throughputMessages: 200, latencyMessages: 50, latencyRatePerSecond: 5 },
];
// `node bench/relay.bench.ts 50` runs one size only.
const only = process.argv.slice(2).map(Number).filter((n) => n > 0);
const SIZES = only.length > 0 ? ALL_SIZES.filter((s) => only.includes(s.members)) : ALL_SIZES;
const WINDOW = 32; // sends in flight during the throughput run

interface Result {
  deliveredPerSecond: number;
  p50: number;
  p99: number;
}

/** The body carries the send time (this process's clock) in its first 8 bytes. */
function stampedBody(): Uint8Array {
  const body = new Uint8Array(BODY_BYTES);
  body.set(randomBytes(BODY_BYTES - 8), 8);
  new DataView(body.buffer).setFloat64(0, performance.now());
  return body;
}

const sentAt = (body: Uint8Array): number => new DataView(body.buffer, body.byteOffset, 8).getFloat64(0);

// ------------------------------------------------------------------ bare ws relay (baseline)

function bareRelayChild(): void {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => {
      for (const client of wss.clients) if (client !== socket && client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
    });
  });
  wss.on('listening', () => process.stdout.write(`port ${(wss.address() as { port: number }).port}\n`));
}

async function startBareRelay(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [import.meta.filename, '--bare-relay-child'], { stdio: ['ignore', 'pipe', 'inherit'] });
  bareChildren.add(child);
  child.once('exit', () => bareChildren.delete(child));
  const port = await new Promise<number>((resolve) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      const match = /port (\d+)/.exec(chunk.toString());
      if (match) resolve(Number(match[1]));
    });
  });
  return { url: `ws://127.0.0.1:${port}`, child };
}

async function runBare(url: string, members: number, size: typeof SIZES[number]): Promise<Result> {
  const collector = new Collector();
  const receivers = await Promise.all(Array.from({ length: members }, () => new Promise<WebSocket>((resolve) => {
    const socket = new WebSocket(url);
    socket.binaryType = 'nodebuffer';
    socket.on('message', (data: Buffer) => collector.record(sentAt(data)));
    socket.once('open', () => resolve(socket));
  })));
  const sender = await new Promise<WebSocket>((resolve) => {
    const socket = new WebSocket(url);
    socket.once('open', () => resolve(socket));
  });
  // Throughput: keep the same window as the Wardroom sender, counted in whole fan-outs delivered.
  const done = collector.expect(size.throughputMessages * members);
  const start = performance.now();
  for (let i = 0; i < size.throughputMessages; i++) {
    if (i >= WINDOW) await collector.reached((i - WINDOW + 1) * members);
    sender.send(stampedBody());
  }
  await done;
  const deliveredPerSecond = (collector.count / (collector.lastAt - start)) * 1000;
  const latencies = await pacedLatency(collector, members, size, () => sender.send(stampedBody()));
  for (const socket of [...receivers, sender]) socket.terminate();
  return { deliveredPerSecond, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

async function pacedLatency(collector: Collector, members: number, size: typeof SIZES[number], send: () => void): Promise<number[]> {
  const done = collector.expect(size.latencyMessages * members);
  const interval = 1000 / size.latencyRatePerSecond;
  const start = performance.now();
  for (let i = 0; i < size.latencyMessages; i++) {
    const due = start + i * interval;
    while (performance.now() < due) await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now() - 1)));
    send();
  }
  await done;
  return collector.latencies;
}

// ------------------------------------------------------------------ Wardroom relay

async function setupWardroom(server: ServerProcess, members: number) {
  const org = await createOrg(server);
  const adminToken = org.admin.token;
  const users: TestUser[] = [];
  // Sign up in small parallel batches: fast, without flooding the server's accept queue.
  for (let i = 0; i < members; i += 20) {
    users.push(...await Promise.all(Array.from({ length: Math.min(20, members - i) }, async (_, j) => {
      const invite = await http<{ code: string }>(server.url, 'POST', '/v1/admin/invites', { token: adminToken, json: {} });
      return TestUser.signUp(server.url, `member${i + j}`, invite.body.code);
    })));
  }
  const channel = await http<{ channelId: string }>(server.url, 'POST', '/v1/channels', { token: adminToken, json: { name: 'AA' } });
  const channelId = channel.body.channelId;
  const added = await http(server.url, 'POST', `/v1/channels/${channelId}/members`, { token: adminToken, json: { accountIds: users.map((u) => u.accountId) } });
  if (added.status !== 200) throw new Error(`adding members failed: ${JSON.stringify(added.body)}`);
  return { admin: org.admin, users, channelId };
}

async function runWardroom(server: ServerProcess, members: number, size: typeof SIZES[number]): Promise<Result> {
  const { admin, users, channelId } = await setupWardroom(server, members);
  const collector = new Collector();
  // Log in in groups: the server bounds unanswered challenges per client address.
  const tokens: string[] = [];
  for (let i = 0; i < users.length; i += 50) {
    tokens.push(...await Promise.all(users.slice(i, i + 50).map((user) => login(server.url, user.devices[0]!.keys))));
  }
  const receivers = await Promise.all(users.map(async (_user, index) => {
    const socket = await WsClient.connect(server.url, tokens[index]!, { record: false });
    // Acks are batched per event-loop turn, as a real client acks a burst in one frame.
    let pending: number[] = [];
    socket.onFrame = (frame) => {
      if (frame.t !== 'deliver') return;
      if (frame.from !== null) collector.record(sentAt(frame.body));
      if (pending.length === 0) {
        setImmediate(() => {
          socket.send({ t: 'ack', rid: socket.nextRid(), seqs: pending });
          pending = [];
        });
      }
      pending.push(frame.seq);
    };
    return socket;
  }));
  await new Promise((r) => setTimeout(r, 300)); // drain the membership notice
  const sender = await WsClient.connect(server.url, admin.token);
  const send = () => sender.sendToChannel(channelId, stampedBody(), randomBytes(16), Date.now() + 3_600_000, 120_000);

  const done = collector.expect(size.throughputMessages * members);
  const start = performance.now();
  // The same window as the bare sender: at most WINDOW fan-outs sent and not yet delivered everywhere. (Counting
  // deliveries rather than "sent" replies keeps the two senders identical.)
  for (let i = 0; i < size.throughputMessages; i++) {
    if (i >= WINDOW) await collector.reached((i - WINDOW + 1) * members);
    void send().then((reply) => {
      if (reply.t !== 'sent') throw new Error(`send refused: ${JSON.stringify(reply)}`);
    });
  }
  await done;
  const deliveredPerSecond = (collector.count / (collector.lastAt - start)) * 1000;
  const latencies = await pacedLatency(collector, members, size, () => void send());
  await Promise.all([...receivers, sender].map((socket) => socket.close()));
  return { deliveredPerSecond, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

const bareChildren = new Set<ChildProcess>();

async function main(): Promise<void> {
  try {
    await runAll();
  } finally {
    // Also after a failure: no server child outlives the benchmark.
    for (const child of bareChildren) child.kill('SIGKILL');
    await killSpawnedServers();
  }
}

async function runAll(): Promise<void> {
  section(`relay: one sender to a channel, ${BODY_BYTES}-byte messages, loopback, server in a child process`);
  for (const size of SIZES) {
    const bare = await startBareRelay();
    const bareResult = await runBare(bare.url, size.members, size);
    bare.child.kill('SIGTERM');

    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'wardroom-relay-bench-'));
    const server = await spawnServer(dataDir, ['--log-level', 'warn']);
    const wardroom = await runWardroom(server, size.members, size);
    await server.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });

    console.log(`  -- ${size.members} member devices (throughput: ${size.throughputMessages} msgs, window ${WINDOW}; `
      + `latency: ${size.latencyMessages} msgs paced at ${size.latencyRatePerSecond}/s)`);
    report({ name: `delivered msgs/s, ${size.members} members`, value: wardroom.deliveredPerSecond, unit: 'msg/s',
      baseline: { name: 'bare ws relay', value: bareResult.deliveredPerSecond }, target: 'ratio >= 0.5' });
    report({ name: `latency p50, ${size.members} members`, value: wardroom.p50, unit: 'ms',
      baseline: { name: 'bare ws relay', value: bareResult.p50 } });
    report({ name: `latency p99, ${size.members} members`, value: wardroom.p99, unit: 'ms',
      baseline: { name: 'bare ws relay', value: bareResult.p99 }, ...(size.members === 50 ? { target: '< 25 ms' } : {}) });
  }
}

if (process.argv.includes('--bare-relay-child')) bareRelayChild();
else await main();
