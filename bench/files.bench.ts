// Files through the real relay on loopback (a relay process; each engine a child process of its own, so its peak
// RSS is its own): a 1 GB file sent (encrypt in 1 MiB chunks, pad, upload resumably) and received (download,
// verify, decrypt, write, rename), each beside the same bytes sent and received unencrypted through the same relay
// in the same run (the same 1 MiB chunks, one in flight while the next is read). Peak RSS of both ends is printed.
// WARDROOM_BENCH_FILE_MB sets the size (default 1024).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { PASSPHRASE, idOf } from '../test/support/engines.ts';
import { RelayHttp } from '../core/engine/relay-http.ts';
import { inviteCode, TestUser } from '../test/support/server-client.ts';
import { killSpawnedServers, spawnServer } from '../test/support/server-process.ts';
import { orgOn } from '../test/support/spawned-org.ts';
import { report, section } from './harness.ts';

const MiB = 1024 * 1024;
const SIZE = Number(process.env.WARDROOM_BENCH_FILE_MB ?? 1024) * MiB;
const CHILD = path.join(import.meta.dirname, '..', 'test', 'support', 'file-child.ts');
const work = mkdtempSync(path.join(os.tmpdir(), 'wardroom-bench-files-'));

async function writeRandomFile(file: string, size: number): Promise<void> {
  const out = createWriteStream(file);
  const block = randomBytes(8 * MiB);
  for (let written = 0; written < size; written += block.length) {
    if (!out.write(block.subarray(0, Math.min(block.length, size - written)))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

interface ChildResult { result: { id?: string; path?: string }; ms: number; maxRssBytes: number }

function runChild(profileDir: string, args: string[]): Promise<ChildResult> {
  const child = spawn(process.execPath, [CHILD, profileDir, PASSPHRASE, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  return new Promise((resolve, reject) => child.once('exit', (code) => {
    const line = out.split('\n').find((l) => l.startsWith('{"result"'));
    if (code !== 0 || !line) reject(new Error(`file child exited ${code}`));
    else resolve(JSON.parse(line) as ChildResult);
  }));
}

/**
 * The same bytes up and down through the same relay, unencrypted, over the engine's own relay client: create, PUT
 * 1 MiB at a time with one in flight while the next is read, then GET written out 1 MiB at a time and synced.
 */
async function plainUpload(relay: RelayHttp, file: string): Promise<{ blobId: string; ms: number }> {
  const size = statSync(file).size;
  const started = performance.now();
  const { blobId } = await relay.createBlob(size);
  const source = await open(file, 'r');
  const buffers = [new Uint8Array(MiB), new Uint8Array(MiB)];
  let inFlight: Promise<unknown> | null = null;
  for (let offset = 0, n = 0; offset < size; n++) {
    const body = buffers[n % 2]!;
    const { bytesRead } = await source.read(body, 0, Math.min(MiB, size - offset), offset);
    await inFlight;
    inFlight = relay.putBlobChunk(blobId, offset, body.subarray(0, bytesRead));
    offset += bytesRead;
  }
  await inFlight;
  await source.close();
  return { blobId, ms: performance.now() - started };
}

async function plainDownload(relay: RelayHttp, blobId: string, into: string): Promise<number> {
  const started = performance.now();
  const target = await open(into, 'w');
  const pending = new Uint8Array(MiB);
  let filled = 0;
  let position = 0;
  const flush = async () => {
    await target.write(pending, 0, filled, position);
    position += filled;
    filled = 0;
  };
  for await (const chunk of (await relay.downloadBlob(blobId, 0)) as AsyncIterable<Buffer>) {
    for (let at = 0; at < chunk.length;) {
      const take = Math.min(MiB - filled, chunk.length - at);
      pending.set(chunk.subarray(at, at + take), filled);
      filled += take;
      at += take;
      if (filled === MiB) await flush();
    }
  }
  await flush();
  await target.sync();
  await target.close();
  return performance.now() - started;
}

section(`files: ${SIZE / MiB} MiB through the relay on loopback, end to end encrypted vs the same bytes unencrypted`);
try {
  const relay = await spawnServer(path.join(work, 'relay'), ['--max-blob', String(4 * SIZE), '--blob-quota', String(16 * SIZE)]);
  const org = await orgOn(relay.firstAdminInvite!);
  const ann = await org.addUser('ann');
  const ben = await org.addUser('ben');
  await ann.engine.api.call('messages.send', { conversation: await idOf(ann.engine.api, '@ben'), text: 'hello' });
  await ben.waitFor(() => ben.received().length > 0, 15_000, 'the first message');
  const plainUser = await TestUser.signUp(relay.url, 'plain', inviteCode((await org.admin.engine.api.call('org.invite', { admin: false })).link));
  const plainRelay = new RelayHttp({ server: relay.url, pin: null, ca: null });
  plainRelay.setDevice(plainUser.devices[0]!.deviceId, plainUser.devices[0]!.keys.secretKey);
  await ann.engine.close();
  await ben.engine.close();
  const file = path.join(work, 'file.bin');
  await writeRandomFile(file, SIZE);

  // each figure beside its baseline measured next to it: this machine's speed drifts within a run
  const plainUp = await plainUpload(plainRelay, file);
  const sent = await runChild(ann.profileDir, ['send', '@ben', file]);
  const received = await runChild(ben.profileDir, ['download', sent.result.id!, mkdtempSync(path.join(work, 'in-'))]);
  const plainDownMs = await plainDownload(plainRelay, plainUp.blobId, path.join(work, 'plain-copy.bin'));
  const mbps = (ms: number) => SIZE / MiB / (ms / 1000);
  report({ name: 'send (encrypt + pad + upload)', value: mbps(sent.ms), unit: 'MB/s', baseline: { name: 'plain upload', value: mbps(plainUp.ms) }, target: 'ratio >= 0.5' });
  report({ name: 'receive (download + verify + decrypt + write)', value: mbps(received.ms), unit: 'MB/s', baseline: { name: 'plain download + write', value: mbps(plainDownMs) }, target: 'ratio >= 0.5' });
  report({ name: 'peak RSS, sending engine', value: sent.maxRssBytes / MiB, unit: 'MiB' });
  report({ name: 'peak RSS, receiving engine', value: received.maxRssBytes / MiB, unit: 'MiB' });
  plainRelay.close();
  await org.close();
} finally {
  await killSpawnedServers();
  rmSync(work, { recursive: true, force: true });
}
