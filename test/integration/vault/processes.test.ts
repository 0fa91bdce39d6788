// Two processes and one vault: the second gets LOCKED_BY_OTHER_PROCESS. A process SIGKILLed in the middle of a
// write transaction leaves a vault that opens, passes integrity checks and holds exactly the committed batches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createVault, openVault, VaultError } from '../../../core/vault/index.ts';
import { PASSPHRASE, tempDir, TEST_KDF } from '../../support/vault-helpers.ts';

const child = path.join(import.meta.dirname, '../../support/vault-child.ts');

interface Child {
  process: ChildProcess;
  /** resolves with the first line matching `pattern` */
  waitFor(pattern: RegExp): Promise<string>;
  lines: string[];
  exited: Promise<void>;
}

function start(...args: string[]): Child {
  const proc = spawn(process.execPath, [child, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve(line: string): void }[] = [];
  let buffered = '';
  proc.stdout!.on('data', (data: Buffer) => {
    buffered += data.toString();
    const complete = buffered.split('\n');
    buffered = complete.pop()!;
    for (const line of complete) {
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.pattern.test(line))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    process: proc,
    lines,
    exited,
    waitFor: (pattern) => {
      const seen = lines.find((line) => pattern.test(line));
      return seen !== undefined ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ pattern, resolve }));
    },
  };
}

test('a second process gets LOCKED_BY_OTHER_PROCESS naming the holder\'s pid; after the holder is killed the vault opens again', async (t) => {
  const dir = tempDir(t);
  await (await createVault({ dir, passphrase: PASSPHRASE, kdf: TEST_KDF })).lock();
  const holder = start('hold', dir, PASSPHRASE);
  t.after(() => holder.process.kill('SIGKILL'));
  await holder.waitFor(/^ready$/);

  await assert.rejects(openVault({ dir, passphrase: PASSPHRASE }), (e: unknown) => e instanceof VaultError && e.code === 'LOCKED_BY_OTHER_PROCESS'
    && e.holderPid === holder.process.pid && e.message.endsWith(`(pid ${holder.process.pid})`));
  const second = start('hold', dir, PASSPHRASE);
  assert.equal(await second.waitFor(/^(ready|error)/), 'error LOCKED_BY_OTHER_PROCESS');
  await second.exited;

  holder.process.kill('SIGKILL');
  await holder.exited;
  const vault = await openVault({ dir, passphrase: PASSPHRASE });
  await vault.lock();
});

test('SIGKILL in the middle of write transactions leaves a consistent vault with every committed batch', async (t) => {
  const dir = tempDir(t);
  await (await createVault({ dir, passphrase: PASSPHRASE, kdf: TEST_KDF })).lock();
  const batchSize = 2000;
  // Kill at a fraction of the time one batch takes, so the signal lands inside the next write transaction.
  const kills = [{ afterCommits: 1, fraction: 0.2 }, { afterCommits: 2, fraction: 0.5 }, { afterCommits: 1, fraction: 0.8 }];
  for (const [run, kill] of kills.entries()) {
    const writer = start('write', dir, PASSPHRASE, String(batchSize), String(run));
    t.after(() => writer.process.kill('SIGKILL'));
    const batchMs = Number((await writer.waitFor(new RegExp(`^committed ${kill.afterCommits} `))).split(' ')[2]);
    await new Promise((resolve) => setTimeout(resolve, batchMs * kill.fraction));
    writer.process.kill('SIGKILL');
    await writer.exited;
    const acknowledged = Math.max(...writer.lines.filter((l) => l.startsWith('committed ')).map((l) => Number(l.split(' ')[1])));

    const vault = await openVault({ dir, passphrase: PASSPHRASE });
    try {
      assert.deepEqual(await vault.integrityCheck(), [], `run ${run}: integrity_check`);
      await vault.run(`INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 0)`);
      const stored = (await vault.get<{ n: number }>('SELECT count(*) AS n FROM messages WHERE conversation_id = ?', [`run${run}`]))!.n;
      t.diagnostic(`run ${run}: a batch takes ${batchMs} ms, killed after ${Math.round(batchMs * kill.fraction)} ms; ${acknowledged} batches acknowledged, ${stored / batchSize} stored`);
      assert.equal(stored % batchSize, 0, 'no half batch: each transaction committed whole or not at all');
      assert.ok(stored / batchSize >= acknowledged, 'every acknowledged batch survived the crash');
      assert.ok(stored / batchSize <= acknowledged + 1, 'at most the batch in flight also committed');
      const searchable = await vault.all('SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? AND rowid IN (SELECT id FROM messages WHERE conversation_id = ?)', ['crashtest', `run${run}`]);
      assert.equal(searchable.length, stored, 'the full-text index matches the rows');
      await vault.shred();
    } finally {
      await vault.lock();
    }
  }
});
