// Relay benchmark: one sender to a channel of 50 and of 500 member devices over loopback WebSockets.
// Wardroom (durable: every send committed with synchronous=FULL before "sent", every delivery acked and deleted)
// is measured beside a bare `ws` broadcast relay that stores nothing, in the same run on the same machine.
// Each server runs in its own child process; all client sockets live in this process.
//
// Figures per size:
//  - throughput: the sender keeps a window of fan-outs in flight (counted by deliveries, for both relays alike);
//    delivered messages per second across all members, the median of alternating rounds against the bare relay;
//  - the relay process's CPU time per 1,000 deliveries in those rounds (from /proc), to show where the gap is;
//  - latency: the sender paces itself at a fixed rate well below saturation; send-to-delivery p50/p99, measured
//    with this process's clock (sender and receivers share it).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket, { WebSocketServer } from 'ws';
import { randomBytes } from '../core/crypto/sodium.ts';
import { createOrg, http, login, TestUser, WsClient } from '../test/support/server-client.ts';
import { killSpawnedServers, spawnServer } from '../test/support/server-process.ts';
import type { ServerProcess } from '../test/support/server-process.ts';
import { DeliveryCollector as Collector, median, percentile, report, section } from './harness.ts';

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

/** The body carries the send time (this process's clock) in its first 8 bytes. */
function stampedBody(): Uint8Array {
  const body = new Uint8Array(BODY_BYTES);
  body.set(randomBytes(BODY_BYTES - 8), 8);
  new DataView(body.buffer).setFloat64(0, performance.now());
  return body;
}

const sentAt = (body: Uint8Array): number => new DataView(body.buffer, body.byteOffset, 8).getFloat64(0);

/** Delivered messages per second across all members, and the relay process's CPU time per 1,000 deliveries. */
interface Round {
  deliveredPerSecond: number;
  cpuMsPer1000: number;
}

/** One relay with its clients connected, measured in alternating rounds against the other. */
interface Rig {
  throughput(): Promise<Round>;
  latency(): Promise<number[]>;
  close(): Promise<void>;
}

const ROUNDS = 3; // throughput rounds per relay, alternating, so a noisy moment hits both alike; medians reported

/** CPU time (user + system, ms) a child process has used so far, from /proc (Linux; NaN elsewhere). */
function cpuMsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return Number.NaN;
  }
}

/** Runs a throughput round: `send` keeps WINDOW fan-outs in flight, counted by deliveries, for both relays alike. */
async function throughputRound(collector: Collector, members: number, messages: number, pid: number, send: () => void): Promise<Round> {
  const done = collector.expect(messages * members);
  const cpuBefore = cpuMsOf(pid);
  const start = performance.now();
  for (let i = 0; i < messages; i++) {
    if (i >= WINDOW) await collector.reached((i - WINDOW + 1) * members);
    send();
  }
  await done;
  return {
    deliveredPerSecond: (collector.count / (collector.lastAt - start)) * 1000,
    cpuMsPer1000: ((cpuMsOf(pid) - cpuBefore) / collector.count) * 1000,
  };
}

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

async function bareRig(url: string, pid: number, members: number, size: typeof SIZES[number]): Promise<Rig> {
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
  const send = () => sender.send(stampedBody());
  return {
    throughput: () => throughputRound(collector, members, size.throughputMessages, pid, send),
    latency: () => pacedLatency(collector, members, size, send),
    close: async () => {
      for (const socket of [...receivers, sender]) socket.terminate();
    },
  };
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

async function wardroomRig(server: ServerProcess, members: number, size: typeof SIZES[number]): Promise<Rig> {
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
  const sender = await WsClient.connect(server.url, admin.token); // records: its sends wait for their replies
  const send = () => {
    void sender.sendToChannel(channelId, stampedBody(), randomBytes(16), Date.now() + 3_600_000, 120_000).then((reply) => {
      if (reply.t !== 'sent') throw new Error(`send refused: ${JSON.stringify(reply)}`);
    });
  };
  return {
    // The same window as the bare sender: at most WINDOW fan-outs sent and not yet delivered everywhere.
    throughput: () => throughputRound(collector, members, size.throughputMessages, server.child.pid!, send),
    latency: () => pacedLatency(collector, members, size, send),
    close: async () => {
      await Promise.all([...receivers, sender].map((socket) => socket.close()));
    },
  };
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
    const bareRelay = await startBareRelay();
    const bare = await bareRig(bareRelay.url, bareRelay.child.pid!, size.members, size);
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'wardroom-relay-bench-'));
    const server = await spawnServer(dataDir, ['--log-level', 'warn']);
    const wardroom = await wardroomRig(server, size.members, size);

    const rounds = { bare: [] as Round[], wardroom: [] as Round[] };
    for (let round = 0; round < ROUNDS; round++) {
      rounds.bare.push(await bare.throughput());
      rounds.wardroom.push(await wardroom.throughput());
    }
    const bareLatency = await bare.latency();
    const wardroomLatency = await wardroom.latency();
    await Promise.all([bare.close(), wardroom.close()]);
    bareRelay.child.kill('SIGTERM');
    await server.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });

    const med = (list: Round[], key: keyof Round) => median(list.map((r) => r[key]));
    console.log(`  -- ${size.members} member devices (throughput: ${size.throughputMessages} msgs, window ${WINDOW}, median of ${ROUNDS} `
      + `alternating rounds; latency: ${size.latencyMessages} msgs paced at ${size.latencyRatePerSecond}/s)`);
    console.log(`     throughput rounds, msg/s: wardroom ${rounds.wardroom.map((r) => r.deliveredPerSecond.toFixed(0)).join(', ')}; `
      + `bare ${rounds.bare.map((r) => r.deliveredPerSecond.toFixed(0)).join(', ')}`);
    report({ name: `delivered msgs/s, ${size.members} members`, value: med(rounds.wardroom, 'deliveredPerSecond'), unit: 'msg/s',
      baseline: { name: 'bare ws relay', value: med(rounds.bare, 'deliveredPerSecond') }, target: 'ratio >= 0.5' });
    report({ name: `relay CPU per 1,000 deliveries, ${size.members} members`, value: med(rounds.wardroom, 'cpuMsPer1000'), unit: 'ms',
      baseline: { name: 'bare ws relay', value: med(rounds.bare, 'cpuMsPer1000') } });
    report({ name: `latency p50, ${size.members} members`, value: percentile(wardroomLatency, 50), unit: 'ms',
      baseline: { name: 'bare ws relay', value: percentile(bareLatency, 50) } });
    report({ name: `latency p99, ${size.members} members`, value: percentile(wardroomLatency, 99), unit: 'ms',
      baseline: { name: 'bare ws relay', value: percentile(bareLatency, 99) }, ...(size.members === 50 ? { target: '< 25 ms' } : {}) });
  }
}

if (process.argv.includes('--bare-relay-child')) bareRelayChild();
else await main();
