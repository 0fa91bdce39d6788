// File transfers that are cut hard, and how much memory they take: a sender or a receiver killed with SIGKILL in
// the middle continues where the relay (or the partial file) stopped when the profile opens again; a relay killed
// with SIGKILL mid-download is waited for and the download continues from the last byte verified; and a large file
// moves with bounded memory on both ends, measured as a child process's peak RSS beside the same child moving a
// small file. Real engines, a relay process, real files.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { idOf, PASSPHRASE, type TestEngine } from '../../support/engines.ts';
import { killSpawnedServers, spawnServer, type ServerProcess } from '../../support/server-process.ts';
import { orgOn, type SpawnedOrg } from '../../support/spawned-org.ts';

const CHILD = path.join(import.meta.dirname, '..', '..', 'support', 'file-child.ts');
const MiB = 1024 * 1024;

interface Child {
  process: ChildProcess;
  progress: number[];
  result: Promise<{ result: { id?: string; path?: string }; maxRssBytes: number }>;
  /** resolves once the child reported at least `bytes` done */
  reached(bytes: number): Promise<void>;
}

function startChild(profileDir: string, args: string[]): Child {
  const child = spawn(process.execPath, [CHILD, profileDir, PASSPHRASE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const progress: number[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let buffered = '';
  const result = new Promise<{ result: { id?: string; path?: string }; maxRssBytes: number }>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        const parsed = JSON.parse(line) as { done?: number; result?: unknown };
        if (parsed.done !== undefined) progress.push(parsed.done);
        else resolve(parsed as { result: { id?: string; path?: string }; maxRssBytes: number });
        for (const w of [...waiters]) w();
      }
    });
    child.once('exit', (code, signal) => reject(new Error(`file child exited (${code ?? signal}): ${stderr.slice(-2000)}`)));
  });
  result.catch(() => {});
  return {
    process: child, progress, result,
    reached: (bytes) => new Promise((resolve, reject) => {
      const check = () => {
        if (progress.some((d) => d >= bytes)) {
          waiters.delete(check);
          resolve();
        }
      };
      waiters.add(check);
      result.then(() => reject(new Error('the child finished before the point to kill it')), reject);
      check();
    }),
  };
}

const killed = (child: Child) => new Promise<void>((resolve) => {
  child.process.once('exit', () => resolve());
  child.process.kill('SIGKILL');
});

describe('engine: files cut hard, and their memory', () => {
  let relayDir: string;
  let relay: ServerProcess;
  let org: SpawnedOrg;
  let ann: TestEngine;
  let ben: TestEngine;
  const work = mkdtempSync(path.join(os.tmpdir(), 'wardroom-files-crash-'));
  const file = (name: string, size: number) => {
    const at = path.join(work, name);
    writeFileSync(at, randomBytes(size));
    return at;
  };
  const progressOf = (e: TestEngine, operation: string) => e.events.filter((x) => x.name === 'operation.progress' && (x.payload as { operation: string }).operation === operation).map((x) => (x.payload as { done: number }).done);

  before(async () => {
    relayDir = mkdtempSync(path.join(os.tmpdir(), 'wardroom-files-relay-'));
    relay = await spawnServer(relayDir, ['--max-blob', String(1024 * MiB), '--blob-quota', String(4096 * MiB)]);
    org = await orgOn(relay.firstAdminInvite!);
    ann = await org.addUser('ann');
    ben = await org.addUser('ben');
    // a first message each way, so sessions exist before the engines are handed to child processes
    await ann.engine.api.call('messages.send', { conversation: await idOf(ann.engine.api, '@ben'), text: 'hello' });
    await ben.waitFor(() => ben.received().length > 0, 15_000, 'the first message');
  });
  after(async () => {
    await org.close();
    await killSpawnedServers();
    rmSync(work, { recursive: true, force: true });
    rmSync(relayDir, { recursive: true, force: true });
  });

  it('resumes an upload whose sender was killed with SIGKILL, from the offset the relay acknowledged', async () => {
    const source = file('upload.bin', 40 * MiB);
    await ann.engine.close();
    const child = startChild(ann.profileDir, ['send', '@ben', source]);
    await child.reached(8 * MiB);
    await killed(child);
    ann = await org.open(ann.profileDir);
    const message = await ben.waitFor(() => ben.received().find((m) => m.files?.[0]?.name === 'upload.bin'), 60_000, 'the resumed file');
    const resumed = progressOf(ann, 'child');
    assert.ok(resumed.length > 0, 'the reopened engine continued the upload by itself');
    assert.ok(resumed[0]! >= 8 * MiB, `it started at the relay's offset (${resumed[0]}), not at 0`);
    const saved = await ben.engine.api.call('files.download', { message: message.id, dir: mkdtempSync(path.join(work, 'up-')) });
    assert.deepEqual(readFileSync(saved.path), readFileSync(source));
  });

  it('resumes a download whose receiver was killed with SIGKILL, from the last whole chunk it verified, and leaves no partial file', async () => {
    const source = file('download.bin', 40 * MiB);
    const sent = await ann.engine.api.call('messages.send', { conversation: await idOf(ann.engine.api, '@ben'), attachments: [{ path: source }] });
    await ben.waitFor(() => ben.received().find((m) => m.id === sent.id), 15_000, 'the file message');
    const dir = mkdtempSync(path.join(work, 'down-'));
    await ben.engine.close();
    const child = startChild(ben.profileDir, ['download', sent.id, dir]);
    await child.reached(8 * MiB);
    await killed(child);
    assert.equal(readdirSync(dir).length, 1, 'only the hidden partial file');
    assert.match(readdirSync(dir)[0]!, /^\.download\.bin\..*\.wardroom-part$/);
    ben = await org.open(ben.profileDir);
    const saved = await ben.engine.api.call('files.download', { message: sent.id, dir, operation: 'again' });
    assert.ok(progressOf(ben, 'again')[0]! >= 4 * MiB, 'the second run started past what the first verified');
    assert.deepEqual(readFileSync(saved.path), readFileSync(source));
    assert.deepEqual(readdirSync(dir), ['download.bin']);
  });

  it('waits for a relay killed with SIGKILL mid-download and continues from the last byte verified', async () => {
    const source = file('relay-kill.bin', 40 * MiB);
    const sent = await ann.engine.api.call('messages.send', { conversation: await idOf(ann.engine.api, '@ben'), attachments: [{ path: source }] });
    await ben.waitFor(() => ben.received().find((m) => m.id === sent.id), 15_000, 'the file message');
    const downloading = ben.engine.api.call('files.download', { message: sent.id, dir: mkdtempSync(path.join(work, 'relay-')), operation: 'cut' });
    await ben.waitFor(() => progressOf(ben, 'cut').some((d) => d >= 4 * MiB), 30_000, 'the download under way');
    const port = new URL(relay.url).port;
    await relay.kill('SIGKILL');
    relay = await spawnServer(relayDir, ['--max-blob', String(1024 * MiB), '--blob-quota', String(4096 * MiB), '--port', port]);
    const saved = await downloading;
    const done = progressOf(ben, 'cut');
    assert.ok(done.every((d, i) => i === 0 || d >= done[i - 1]!), 'it never went back');
    assert.deepEqual(readFileSync(saved.path), readFileSync(source));
  });

  it('moves a large file with bounded memory on both ends (peak RSS beside the same transfer of a small file)', { timeout: 120_000 }, async () => {
    const LARGE = 192 * MiB;
    const small = file('small.bin', 1 * MiB);
    const large = path.join(work, 'large.bin');
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(large);
      out.on('error', reject);
      const block = randomBytes(4 * MiB);
      let written = 0;
      const more = () => {
        while (written < LARGE) {
          written += block.length;
          if (!out.write(block)) return void out.once('drain', more);
        }
        out.end(resolve);
      };
      more();
    });
    await ann.engine.close();
    await ben.engine.close();
    const peak = async (profileDir: string, args: string[]) => (await startChild(profileDir, args).result);
    const sentSmall = await peak(ann.profileDir, ['send', '@ben', small]);
    const sentLarge = await peak(ann.profileDir, ['send', '@ben', large]);
    const dir = mkdtempSync(path.join(work, 'rss-'));
    const gotSmall = await peak(ben.profileDir, ['download', sentSmall.result.id!, dir]);
    const gotLarge = await peak(ben.profileDir, ['download', sentLarge.result.id!, dir]);
    const mb = (n: number) => `${(n / MiB).toFixed(0)} MiB`;
    console.log(`peak RSS: send ${mb(sentSmall.maxRssBytes)} (1 MiB file) / ${mb(sentLarge.maxRssBytes)} (${mb(LARGE)} file); receive ${mb(gotSmall.maxRssBytes)} / ${mb(gotLarge.maxRssBytes)}`);
    assert.ok(sentLarge.maxRssBytes - sentSmall.maxRssBytes < 64 * MiB, `sending ${mb(LARGE)} took ${mb(sentLarge.maxRssBytes - sentSmall.maxRssBytes)} more than 1 MiB`);
    assert.ok(gotLarge.maxRssBytes - gotSmall.maxRssBytes < 64 * MiB, `receiving ${mb(LARGE)} took ${mb(gotLarge.maxRssBytes - gotSmall.maxRssBytes)} more than 1 MiB`);
    assert.equal(readFileSync(gotLarge.result.path!).length, LARGE);
    ann = await org.open(ann.profileDir);
    ben = await org.open(ben.profileDir);
  });
});
