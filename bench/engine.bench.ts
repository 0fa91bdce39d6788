// Engine benchmark: real engines (real SQLCipher vaults, real protocol) against a real relay, beside the bare relay
// driven by raw test clients (no crypto, no vault) measured in the same run, as in relay.bench.ts. The relay runs in a
// child process each time; all 51 engines (one sender, 50 receivers) live in this process, on this machine's 2 cores.
//
// Figures:
//  - throughput: the sender keeps a window of `messages.send` calls in flight; channel messages per second until all
//    50 receivers have shown every one, beside the raw relay (same window, same message count);
//  - latency: `messages.send` on the sender to `message.received` on each of the 50 receivers, paced at about a third
//    of that throughput (so it is not queueing); p50/p99, beside raw relay send -> deliver to 50 test clients;
//  - backlog: a receiver closed while 10,000 channel messages queue for it, then opened in a child process (so the
//    time and RSS are its own): open -> `sync.now` resolved with all 10,000 in history, beside the same number of raw
//    envelopes drained and acked by the bare test client (test/support/server-client.ts WsClient), also in a child.
//
// `node bench/engine.bench.ts --members M --backlog N --latency N --rate R --throughput N --senders S` runs other
// sizes; `--verbose` prints phase timings and the engines' diagnostic lines on stderr.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { MessageViewT } from '../core/api/contract.ts';
import { randomBytes } from '../core/crypto/sodium.ts';
import { MAX_ACKS_PER_FRAME, type ServerFrame } from '../core/relay/frames.ts';
import { Engine } from '../core/engine/engine.ts';
import { join } from '../core/engine/enrol.ts';
import { createOrg, http, login, TestUser, WsClient } from '../test/support/server-client.ts';
import { killSpawnedServers, spawnServer } from '../test/support/server-process.ts';
import type { ServerProcess } from '../test/support/server-process.ts';
import { TEST_KDF } from '../test/support/vault-helpers.ts';
import { DeliveryCollector as Collector, percentile, report, section } from './harness.ts';
import { idOf } from '../test/support/engines.ts';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const MEMBERS = arg('members', 50);
const BACKLOG = arg('backlog', 10_000);
const LATENCY_MESSAGES = arg('latency', 200);
/** Paced sends per second in the engines' latency run: about a third of what 50 receiving engines sustain here. */
const LATENCY_RATE = arg('rate', 3.5);
/** The raw relay's latency run is paced as in relay.bench.ts: far below its saturation too, and it takes seconds. */
const RAW_LATENCY_RATE = 50;
const THROUGHPUT_MESSAGES = arg('throughput', 150);
const BACKLOG_SENDERS = arg('senders', 5);
const WINDOW = 32; // sends in flight during the throughput runs, as in relay.bench.ts
/** About the size of the engine's channel envelope for a short text (256-byte padded payload, header, signature). */
const RAW_BODY_BYTES = 480;
const PASSPHRASE = 'engine bench passphrase';
const t0 = performance.now();
const VERBOSE = process.argv.includes('--verbose');
/** `--verbose`: phase timings and the engines' diagnostic lines on stderr. */
const step = VERBOSE ? (what: string) => console.error(`[${((performance.now() - t0) / 1000).toFixed(1)} s] ${what}`) : () => {};
const engineLog = (name: string) => (VERBOSE ? { log: (line: string) => console.error(`[${((performance.now() - t0) / 1000).toFixed(1)} s] ${name}: ${line}`) } : {});
const EXPIRY_MS = 3_600_000;

// ------------------------------------------------------------------ shared

/** Sends `count` messages at `ratePerSecond`, each through `send(i)`, and waits until `done`. */
async function paced(count: number, ratePerSecond: number, send: (i: number) => void, done: Promise<void>): Promise<void> {
  const interval = 1000 / ratePerSecond;
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const due = start + i * interval;
    while (performance.now() < due) await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now() - 1)));
    send(i);
  }
  await done;
}

/** Runs `send(i)` for i < count with at most `window` unresolved at once. */
async function windowed(count: number, window: number, send: (i: number) => Promise<unknown>): Promise<void> {
  let inFlight = 0;
  let failure: unknown = null;
  const running: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    while (inFlight >= window) await Promise.race(running);
    if (failure) throw failure;
    inFlight++;
    const p: Promise<unknown> = send(i).catch((error: unknown) => {
      failure = error;
    }).finally(() => {
      inFlight--;
      running.splice(running.indexOf(p), 1);
    });
    running.push(p);
  }
  await Promise.all(running);
  if (failure) throw failure;
}

const children = new Set<ChildProcess>();

/** Runs this file in a child process with `args`; resolves with the JSON line it prints last. */
function child<T>(args: string[]): Promise<T> {
  const proc = spawn(process.execPath, ['--expose-gc', import.meta.filename, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(proc);
  let out = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => {
      children.delete(proc);
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) reject(new Error(`child ${args[0]} exited with ${code}: ${out}`));
      else resolve(JSON.parse(line) as T);
    });
  });
}

interface DrainResult {
  /** connect (or open) -> everything processed, ms */
  ms: number;
  /** vault unlock + engine start, ms (engine only) */
  openMs?: number;
  rssBefore: number;
  /** once connected / once Engine.open returned */
  rssOpen: number;
  rssPeak: number;
  rssAfter: number;
  count: number;
}

/** Samples this process's RSS while `fn` runs; `opened()` marks the end of connecting or unlocking. */
async function withRss<T>(fn: (opened: () => void) => Promise<T>): Promise<{ value: T; before: number; open: number; peak: number; after: number }> {
  globalThis.gc?.();
  const before = process.memoryUsage.rss();
  let open = before;
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  try {
    const value = await fn(() => {
      open = process.memoryUsage.rss();
    });
    const after = process.memoryUsage.rss();
    return { value, before, open, peak: Math.max(peak, after), after };
  } finally {
    clearInterval(timer);
  }
}

// ------------------------------------------------------------------ raw relay (baseline)

interface RawResult {
  messagesPerSecond: number;
  p50: number;
  p99: number;
  backlog: DrainResult;
}

/** The send time travels in the body's first 8 bytes (this process's clock). */
function stampedBody(): Uint8Array {
  const body = new Uint8Array(RAW_BODY_BYTES);
  body.set(randomBytes(RAW_BODY_BYTES - 8), 8);
  new DataView(body.buffer).setFloat64(0, performance.now());
  return body;
}

async function runRaw(server: ServerProcess): Promise<RawResult> {
  const org = await createOrg(server);
  const admin = org.admin;
  const users: TestUser[] = [];
  for (let i = 0; i < MEMBERS + 1; i += 20) {
    users.push(...await Promise.all(Array.from({ length: Math.min(20, MEMBERS + 1 - i) }, (_, j) => org.addUser(`member${i + j}`))));
  }
  const offline = users.pop()!;
  const makeChannel = async (name: string, members: TestUser[]) => {
    const channel = await http<{ channelId: string }>(server.url, 'POST', '/v1/channels', { token: admin.token, json: { name: Buffer.from(name).toString('base64url') } });
    const added = await http(server.url, 'POST', `/v1/channels/${channel.body.channelId}/members`, { token: admin.token, json: { accountIds: members.map((u) => u.accountId) } });
    if (added.status !== 200) throw new Error(`adding members failed: ${JSON.stringify(added.body)}`);
    return channel.body.channelId;
  };
  const channelId = await makeChannel('bench', users);
  const backlogChannel = await makeChannel('backlog', [offline]);

  const collector = new Collector();
  const receivers = await Promise.all(users.map(async (user) => {
    const socket = await WsClient.connect(server.url, await login(server.url, user.devices[0]!.keys));
    // Acks are batched per event-loop turn, as a real client acks a burst in one frame.
    let pending: number[] = [];
    const onFrame = (frame: ServerFrame) => {
      if (frame.t !== 'deliver') return;
      if (frame.from !== null) collector.record(new DataView(frame.body.buffer, frame.body.byteOffset, 8).getFloat64(0));
      if (pending.length === 0) {
        setImmediate(() => {
          socket.send({ t: 'ack', rid: socket.nextRid(), seqs: pending });
          pending = [];
        });
      }
      pending.push(frame.seq);
    };
    for (const frame of socket.frames) onFrame(frame); // read with the upgrade reply, before connect() resolved
    socket.onFrame = onFrame;
    return socket;
  }));
  await new Promise((r) => setTimeout(r, 300)); // drain the membership notices
  step('raw: clients connected');
  const sender = await WsClient.connect(server.url, admin.token);
  const send = async (channel: string) => {
    const reply = await sender.sendToChannel(channel, stampedBody(), randomBytes(16), Date.now() + EXPIRY_MS, 120_000);
    if (reply.t !== 'sent') throw new Error(`send refused: ${JSON.stringify(reply)}`);
  };

  const done = collector.expect(THROUGHPUT_MESSAGES * MEMBERS);
  const start = performance.now();
  await windowed(THROUGHPUT_MESSAGES, WINDOW, () => send(channelId));
  await done;
  const messagesPerSecond = (THROUGHPUT_MESSAGES / (collector.lastAt - start)) * 1000;
  step('raw: throughput done');

  await paced(LATENCY_MESSAGES, RAW_LATENCY_RATE, () => void send(channelId), collector.expect(LATENCY_MESSAGES * MEMBERS));
  const p50 = percentile(collector.latencies, 50);
  const p99 = percentile(collector.latencies, 99);
  await Promise.all(receivers.map((socket) => socket.close()));
  step('raw: latency done');

  // backlog: queue for a device that is not connected, then let a fresh process drain it
  await windowed(BACKLOG, WINDOW, () => send(backlogChannel));
  await sender.close();
  step('raw: backlog queued');
  const backlog = await child<DrainResult>(['--raw-drain-child', server.url, await login(server.url, offline.devices[0]!.keys), String(BACKLOG)]);
  return { messagesPerSecond, p50, p99, backlog };
}

/** Child: connects as the offline device and acks everything queued for it (batched per turn), until queue_empty. */
async function rawDrainChild(url: string, token: string, expected: number): Promise<void> {
  const measured = await withRss(async (opened) => {
    const start = performance.now();
    let acked = 0;
    let queueEmpty = false;
    let finish: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const socket = await WsClient.connect(url, token);
    opened();
    // Acks are batched per event-loop turn; an ack counts once the relay confirms it (acked, same rid).
    const ackedBy = new Map<number, number>();
    let pending: number[] = [];
    const onFrame = (frame: ServerFrame) => {
      if (frame.t === 'event' && frame.kind === 'queue_empty') queueEmpty = true;
      else if (frame.t === 'acked') {
        acked += ackedBy.get(frame.rid) ?? 0;
        ackedBy.delete(frame.rid);
      } else if (frame.t === 'deliver') {
        if (pending.length === 0) {
          setImmediate(() => {
            for (let i = 0; i < pending.length; i += MAX_ACKS_PER_FRAME) {
              const seqs = pending.slice(i, i + MAX_ACKS_PER_FRAME);
              const rid = socket.nextRid();
              ackedBy.set(rid, seqs.length);
              socket.send({ t: 'ack', rid, seqs });
            }
            pending = [];
          });
        }
        pending.push(frame.seq);
      }
      if (queueEmpty && acked >= expected) finish();
    };
    // Frames that came with the upgrade reply were read before connect() resolved.
    for (const frame of socket.frames) onFrame(frame);
    socket.onFrame = onFrame;
    await finished;
    const ms = performance.now() - start;
    await socket.close();
    return { ms, count: acked };
  });
  process.stdout.write(`${JSON.stringify({ ms: measured.value.ms, count: measured.value.count, rssBefore: measured.before, rssOpen: measured.open, rssPeak: measured.peak, rssAfter: measured.after } satisfies DrainResult)}\n`);
}

// ------------------------------------------------------------------ engines

interface Enrolled {
  engine: Engine;
  profileDir: string;
}

interface EngineResult {
  messagesPerSecond: number;
  p50: number;
  p99: number;
  enrolMs: number;
  senderBacklogPerSecond: number;
  senders: number;
  backlog: DrainResult;
}

async function runEngines(server: ServerProcess, root: string): Promise<EngineResult> {
  const enrolStart = performance.now();
  const settings = (name: string) => ({ profileDir: path.join(root, name), passphrase: PASSPHRASE, kdf: TEST_KDF });
  const adminSettings = settings('admin');
  const admin: Enrolled = {
    engine: await Engine.start((await join(adminSettings, server.firstAdminInvite!, 'admin', Date.now())).vault, { ...adminSettings, ...engineLog('admin') }),
    profileDir: adminSettings.profileDir,
  };
  // Join everyone first (vaults only), add them to the channels, then start their engines: no storm of device-list
  // and membership announcements to engines that are already online.
  const joined: { vault: Awaited<ReturnType<typeof join>>['vault']; settings: ReturnType<typeof settings>; username: string }[] = [];
  for (let i = 0; i < MEMBERS; i += 10) {
    joined.push(...await Promise.all(Array.from({ length: Math.min(10, MEMBERS - i) }, async (_, j) => {
      const username = `member${i + j}`;
      const { link } = await admin.engine.api.call('org.invite', { admin: false });
      const s = settings(username);
      return { vault: (await join(s, link, username, Date.now())).vault, settings: s, username };
    })));
  }
  step(`${MEMBERS + 1} joined`);
  const bench = (await admin.engine.api.call('channels.create', { name: 'bench' })).id;
  for (const { username } of joined) await admin.engine.api.call('channels.add', { conversation: await idOf(admin.engine.api, '#bench'), username });
  step('channel ready');
  const members: Enrolled[] = [];
  for (let i = 0; i < joined.length; i += 10) {
    members.push(...await Promise.all(joined.slice(i, i + 10).map(async (j) => ({ engine: await Engine.start(j.vault, { ...j.settings, ...engineLog(j.username) }), profileDir: j.settings.profileDir }))));
  }
  // The backlog: member0 receives, in one channel per sender (#backlog0 from the admin, #backlogK from memberK),
  // so that no sender also decrypts the others' messages; several senders fill the queue sooner.
  const senders = [admin, ...members.slice(1, Math.min(BACKLOG_SENDERS, MEMBERS))].map((m) => m.engine);
  for (const [k, engine] of senders.entries()) {
    await engine.api.call('channels.create', { name: `backlog${k}` });
    await engine.api.call('channels.add', { conversation: await idOf(engine.api, `#backlog${k}`), username: joined[0]!.username });
  }
  await Promise.all(members.map((m) => m.engine.api.call('sync.now', {})));
  const enrolMs = performance.now() - enrolStart;
  step('engines started and synced');

  // Every receiver reports each message it shows; texts carry the index into sentAt.
  const collector = new Collector();
  let sentAt: number[] = [];
  const slow: string[] = [];
  for (const [r, m] of members.entries()) {
    m.engine.api.on('message.received', (view: MessageViewT) => {
      const match = /^b(\d+) /.exec(view.text);
      if (!match || view.conversation !== bench) return;
      const at = sentAt[Number(match[1])];
      if (VERBOSE && at !== undefined && performance.now() - at > 1000) slow.push(`member${r} got b${match[1]} after ${(performance.now() - at).toFixed(0)} ms`);
      collector.record(at);
    });
  }
  const text = (i: number) => `b${i} ${'benchmark message '.repeat(3)}`;
  const send = async (from: Engine, target: string, i: number) => {
    const sent = await from.api.call('messages.send', { conversation: await idOf(from.api, target), text: text(i) });
    if (sent.status !== 'sent') throw new Error(`message ${i} not sent: ${sent.status}`);
  };

  // Warm-up: the first send starts the sessions and hands out the sender key.
  sentAt = [];
  let done = collector.expect(3 * MEMBERS);
  for (let i = 0; i < 3; i++) await send(admin.engine, '#bench', i);
  await done;
  step('warm');

  sentAt = [];
  done = collector.expect(THROUGHPUT_MESSAGES * MEMBERS);
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const start = performance.now();
  await windowed(THROUGHPUT_MESSAGES, WINDOW, (i) => {
    sentAt[i] = performance.now();
    return send(admin.engine, '#bench', i);
  });
  await done;
  const messagesPerSecond = (THROUGHPUT_MESSAGES / (collector.lastAt - start)) * 1000;
  const used = process.cpuUsage(cpu);
  step(`throughput done: main thread busy ${(performance.eventLoopUtilization(elu).utilization * 100).toFixed(0)}%, `
    + `process CPU ${((used.user + used.system) / 1000 / (performance.now() - start) * 100).toFixed(0)}% of one core`);

  sentAt = [];
  await paced(LATENCY_MESSAGES, LATENCY_RATE, (i) => {
    sentAt[i] = performance.now();
    void send(admin.engine, '#bench', i);
  }, collector.expect(LATENCY_MESSAGES * MEMBERS));
  const p50 = percentile(collector.latencies, 50);
  const p99 = percentile(collector.latencies, 99);
  step(`latency done${slow.length ? `; slow: ${slow.slice(0, 20).join(', ')}` : ''}`);

  // Backlog: member0 is closed while the senders queue BACKLOG messages for it.
  const receiver = members[0]!;
  for (const m of members.slice(senders.length)) await m.engine.close();
  const warm = new Promise<void>((resolve) => {
    let seen = 0;
    const off = receiver.engine.api.on('message.received', () => {
      if (++seen === senders.length) {
        off();
        resolve();
      }
    });
  });
  for (const [k, engine] of senders.entries()) await send(engine, `#backlog${k}`, 0); // each sender's key reaches member0 now
  await warm;
  await receiver.engine.close();
  step('backlog receiver closed');
  const sendStart = performance.now();
  const share = Math.ceil(BACKLOG / senders.length);
  await Promise.all(senders.map((engine, k) => {
    const count = Math.min(share, BACKLOG - k * share);
    return windowed(count, WINDOW, (i) => send(engine, `#backlog${k}`, k * share + i));
  }));
  const senderBacklogPerSecond = (BACKLOG / (performance.now() - sendStart)) * 1000;
  step('backlog queued');
  for (const engine of senders) await engine.close();
  const backlog = await child<DrainResult>(['--engine-drain-child', receiver.profileDir, String(BACKLOG), String(senders.length)]);
  step('backlog drained');
  return { messagesPerSecond, p50, p99, enrolMs, senderBacklogPerSecond, senders: senders.length, backlog };
}

/** Child: opens the closed receiver's profile and syncs; counts its #backlog history afterwards. */
async function engineDrainChild(profileDir: string, expected: number, channels: number): Promise<void> {
  let openMs = 0;
  let engine: Engine | null = null;
  const measured = await withRss(async (opened) => {
    const start = performance.now();
    engine = await Engine.open({ profileDir, passphrase: PASSPHRASE });
    openMs = performance.now() - start;
    opened();
    await engine.api.call('sync.now', {});
    return performance.now() - start;
  });
  // Not timed: page through the history to check everything is there (less the one warm-up message per channel).
  let count = -channels;
  for (let k = 0; k < channels; k++) {
    const conversation = await idOf(engine!.api, `#backlog${k}`);
    let before: string | undefined;
    for (;;) {
      const page = await engine!.api.call('messages.list', { conversation, limit: 200, ...(before ? { before } : {}) });
      count += page.messages.length;
      if (!page.hasOlder) break;
      before = page.messages[0]!.id;
    }
  }
  await engine!.close();
  if (count < expected) throw new Error(`only ${count} of ${expected} messages in history after sync.now`);
  process.stdout.write(`${JSON.stringify({ ms: measured.value, openMs, count, rssBefore: measured.before, rssOpen: measured.open, rssPeak: measured.peak, rssAfter: measured.after } satisfies DrainResult)}\n`);
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const dirs: string[] = [];
  try {
    const rawDir = mkdtempSync(path.join(os.tmpdir(), 'wardroom-engine-bench-raw-'));
    dirs.push(rawDir);
    let server = await spawnServer(rawDir, ['--log-level', 'warn']);
    const raw = await runRaw(server);
    await server.kill('SIGTERM');

    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'wardroom-engine-bench-relay-'));
    const root = mkdtempSync(path.join(os.tmpdir(), 'wardroom-engine-bench-profiles-'));
    dirs.push(dataDir, root);
    server = await spawnServer(dataDir, ['--log-level', 'warn']);
    const engines = await runEngines(server, root);
    await server.kill('SIGTERM');

    section(`engine: one sender to a channel of ${MEMBERS} receiving engines in one process (real vaults), relay in a child process`);
    console.log(`  -- setup: ${MEMBERS + 1} engines enrolled (test Argon2id cost), channel joined and synced in ${(engines.enrolMs / 1000).toFixed(1)} s`);
    console.log(`  -- throughput: ${THROUGHPUT_MESSAGES} msgs, window ${WINDOW}; latency: ${LATENCY_MESSAGES} msgs paced at ${LATENCY_RATE}/s `
      + `(raw relay: ${RAW_LATENCY_RATE}/s, as in relay.bench.ts); baseline: the same relay and sizes driven by raw test clients `
      + `(${RAW_BODY_BYTES}-byte bodies, no crypto, no vault)`);
    report({ name: `channel msgs/s, ${MEMBERS} receivers hold all`, value: engines.messagesPerSecond, unit: 'msg/s', baseline: { name: 'raw relay', value: raw.messagesPerSecond } });
    report({ name: `latency p50, send -> message.received`, value: engines.p50, unit: 'ms', baseline: { name: 'raw relay', value: raw.p50 } });
    report({ name: `latency p99, send -> message.received`, value: engines.p99, unit: 'ms', baseline: { name: 'raw relay', value: raw.p99 } });

    section(`engine: backlog of ${BACKLOG} channel messages on reconnect (receiver in a fresh process)`);
    console.log(`  -- ${engines.senders} sending engines (one channel each with the receiver) queued them at ${engines.senderBacklogPerSecond.toFixed(0)} msg/s`);
    report({ name: 'open -> sync.now resolved, all in history', value: engines.backlog.ms, unit: 'ms', baseline: { name: 'raw WsClient drain + ack', value: raw.backlog.ms }, target: '< 5000 ms' });
    report({ name: '  of which Engine.open (vault unlock, start)', value: engines.backlog.openMs!, unit: 'ms' });
    const mib = (bytes: number) => bytes / 2 ** 20;
    const { backlog } = engines;
    report({ name: 'receiver RSS growth while processing (peak)', value: mib(backlog.rssPeak - backlog.rssOpen), unit: 'MiB',
      baseline: { name: 'raw WsClient', value: mib(raw.backlog.rssPeak - raw.backlog.rssOpen) } });
    report({ name: '  plus at Engine.open (Argon2id memory, vault worker)', value: mib(backlog.rssOpen - backlog.rssBefore), unit: 'MiB' });
  } finally {
    for (const proc of children) proc.kill('SIGKILL');
    await killSpawnedServers();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

const mode = process.argv[2];
if (mode === '--raw-drain-child') await rawDrainChild(process.argv[3]!, process.argv[4]!, Number(process.argv[5]));
else if (mode === '--engine-drain-child') await engineDrainChild(process.argv[3]!, Number(process.argv[4]), Number(process.argv[5]));
else await main();
