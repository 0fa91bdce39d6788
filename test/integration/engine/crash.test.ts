// Crashes around the outbox. (a) A sending engine runs in its own process and is SIGKILLed mid-send: whatever it
// committed (sent and acknowledged, or still in its outbox) reaches the recipient exactly once after the profile
// is opened again. (b) The relay is SIGKILLed mid-traffic and restarted on the same port and data directory: the
// engines reconnect on their own, flush their outboxes, and nothing is lost or delivered twice.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openVault } from '../../../core/vault/index.ts';
import { PROFILE_MIGRATIONS } from '../../../core/engine/schema.ts';
import { createChannel, history, idOf, PASSPHRASE, type TestEngine } from '../../support/engines.ts';
import { tempDir } from '../../support/server-client.ts';
import { killSpawnedServers, spawnServer } from '../../support/server-process.ts';
import { orgOn } from '../../support/spawned-org.ts';

const CHILD = path.join(import.meta.dirname, '..', '..', 'support', 'engine-child.ts');


/** engine-child.ts sending from a profile; `lines` fills with what it prints as each messages.send returns. */
function sendingChild(profileDir: string, count: number, targets: string[], sendWaitMs: number) {
  const child = spawn(process.execPath, [CHILD, profileDir, PASSPHRASE, String(count), targets.join(','), String(sendWaitMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: { i: number; id: string; target: string; status: string }[] = [];
  const watchers = new Set<() => void>();
  let stderr = '';
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const line of parts) if (line.startsWith('{')) lines.push(JSON.parse(line));
    for (const w of [...watchers]) w();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => {
    for (const w of [...watchers]) w();
    resolve(code ?? signal ?? -1);
  }));
  return {
    lines, exited,
    /** Resolves once the child printed `n` results; fails if it exits or stalls first. */
    printed(n: number, timeoutMs = 20_000): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (lines.length >= n) done(null);
          else if (child.exitCode !== null || child.signalCode !== null) done(new Error(`the sending child exited after ${lines.length} sends: ${stderr}`));
        };
        const timer = setTimeout(() => done(new Error(`the sending child printed ${lines.length} of ${n} sends in time: ${stderr}`)), timeoutMs);
        const done = (error: Error | null) => {
          clearTimeout(timer);
          watchers.delete(check);
          if (error) reject(error);
          else resolve();
        };
        watchers.add(check);
        check();
      });
    },
    kill: (signal: NodeJS.Signals) => {
      child.kill(signal);
      return exited;
    },
  };
}

/** Conditions polled (no events to wait on across processes), with a generous limit. */
async function until(what: string, ready: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const countBy = (ids: string[]) => ids.reduce((m, id) => m.set(id, (m.get(id) ?? 0) + 1), new Map<string, number>());

/** What people sent that Bob received (not the notices of who joined the channels). */
const said = (e: TestEngine) => e.received().filter((m) => !m.notice);

describe('engine: crashes', () => {
  after(killSpawnedServers);

  it('a sender SIGKILLed mid-send delivers everything it committed, exactly once', { timeout: 60_000 }, async (t) => {
    const dataDir = tempDir();
    const server = await spawnServer(dataDir);
    const org = await orgOn(server.firstAdminInvite!, {}, 'alice');
    t.after(async () => {
      await org.close();
      await server.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    });
    const alice = org.admin;
    const bob = await org.addUser('bob');
    await createChannel(alice, 'crash', ['bob']);
    await bob.waitFor(() => bob.events.some((e) => e.name === 'conversation.updated'), 15_000, 'the #crash membership');
    await alice.engine.close();

    // Alice's engine sends from a child process without waiting for the relay (messages.send returns once the
    // message and its frames are committed). Midway the relay freezes (SIGSTOP), so the last sends are committed
    // but cannot be acknowledged; then the child is killed.
    const child = sendingChild(alice.profileDir, 1000, ['@bob', '#crash'], 0);
    t.after(() => child.kill('SIGKILL'));
    await child.printed(40);
    server.child.kill('SIGSTOP');
    const beforeFreeze = child.lines.length;
    await child.printed(beforeFreeze + 20);
    assert.equal(await child.kill('SIGKILL'), 'SIGKILL');
    server.child.kill('SIGCONT');
    const printed = child.lines.map((l) => l.id);

    // What the crash left in the vault: every committed message, and those still waiting in the outbox.
    const vault = await openVault({ dir: alice.profileDir, passphrase: PASSPHRASE, migrations: PROFILE_MIGRATIONS });
    const committed = (await vault.all<{ message_id: string }>('SELECT message_id FROM messages WHERE outgoing = 1 ORDER BY id')).map((r) => r.message_id);
    const queued = new Set((await vault.all<{ message_id: string }>('SELECT message_id FROM outbox WHERE message_id IS NOT NULL')).map((r) => r.message_id));
    await vault.lock();
    // One send at a time: at most the one in progress was committed without being printed.
    assert.deepEqual(committed.slice(0, printed.length), printed, 'every send that returned was committed, in order');
    assert.ok(committed.length - printed.length <= 1, `${committed.length} committed, ${printed.length} returned`);
    const frozen = printed.slice(-10);
    assert.deepEqual(frozen.filter((id) => !queued.has(id)), [], 'the sends made while the relay was frozen were still in the outbox');
    t.diagnostic(`child returned ${printed.length} sends (${beforeFreeze} before the freeze), ${committed.length} committed, ${queued.size} unacknowledged at the kill`);

    const alice2 = await org.open(alice.profileDir);
    await alice2.engine.api.call('sync.now', {});
    const own = [...await history(alice2, '@bob'), ...await history(alice2, '#crash')];
    assert.deepEqual(own.map((m) => m.id).sort(), [...committed].sort(), 'the reopened sender holds exactly what was committed');
    assert.deepEqual(own.filter((m) => m.status !== 'sent' && m.status !== 'delivered').map((m) => `${m.id} ${m.status}`), [], 'all of it sent');

    // Bob: each committed message once, in the order Alice committed them, and nothing else from Alice.
    const fromAlice = () => said(bob).filter((m) => m.sender === 'alice').map((m) => m.id);
    await bob.waitFor(() => committed.every((id) => fromAlice().includes(id)), 30_000, 'every committed message');
    await bob.engine.api.call('sync.now', {});
    assert.deepEqual([...countBy(fromAlice())].filter(([, n]) => n !== 1), [], 'no message twice');
    assert.deepEqual(fromAlice(), committed);
    const stored = [...await history(bob, '@alice'), ...await history(bob, '#crash')].map((m) => m.id);
    assert.deepEqual(stored.sort(), [...committed].sort());
    assert.deepEqual(bob.events.filter((e) => e.name === 'message.undecryptable'), []);
  });

  it('a relay SIGKILLed mid-traffic and restarted loses and duplicates nothing', { timeout: 60_000 }, async (t) => {
    const dataDir = tempDir();
    let server = await spawnServer(dataDir);
    const port = new URL(server.url).port;
    // Sends answer quickly while the relay is gone (status "pending"); the outbox keeps them.
    const org = await orgOn(server.firstAdminInvite!, { sendWaitMs: 200 }, 'alice');
    t.after(async () => {
      await org.close();
      await killSpawnedServers();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const alice = org.admin;
    const carol = await org.addUser('carol');
    const bob = await org.addUser('bob');
    await createChannel(alice, 'ops', ['carol', 'bob']);
    await bob.waitFor(() => bob.events.some((e) => e.name === 'conversation.updated'), 15_000, 'the #ops membership');
    await carol.waitFor(() => carol.events.some((e) => e.name === 'conversation.updated'), 15_000, 'the #ops membership');

    const COUNT = 80;
    const sent = new Map<TestEngine, string[]>([[alice, []], [carol, []]]);
    const failures: string[] = [];
    const sending = [...sent].map(async ([e, ids]) => {
      for (let i = 0; i < COUNT; i++) {
        const target = i % 3 === 2 ? '#ops' : '@bob';
        const view = await e.engine.api.call('messages.send', { conversation: await idOf(e.engine.api, target), text: `${e.username} ${i}` }).catch((error: Error) => {
          failures.push(`${e.username} ${i}: ${error.message}`);
          return null;
        });
        if (view) ids.push(view.id);
      }
    });

    // Kill the relay once traffic flows; keep sending while it is gone; restart it on the same port and data.
    await bob.waitFor(() => said(bob).length >= 40, 30_000, 'traffic');
    assert.equal(await server.kill('SIGKILL'), 'SIGKILL');
    const atKill = [...sent.values()].map((ids) => ids.length);
    const bobAtKill = said(bob).length;
    await until('sends while the relay is down', () => [...sent.values()].every((ids, k) => ids.length >= Math.min(COUNT, atKill[k]! + 2)));
    const downSends = [...sent.values()].map((ids, k) => ids.length - atKill[k]!);
    server = await spawnServer(dataDir, ['--port', port]);
    assert.equal(server.url, `http://127.0.0.1:${port}`);
    assert.equal(server.firstAdminInvite, null);
    await Promise.all(sending);
    assert.deepEqual(failures, []);
    t.diagnostic(`sends before the kill: ${atKill.join(' + ')} of ${COUNT} each (Bob had ${bobAtKill}); made with the relay down before its restart began: ${downSends.join(' + ')}`);

    // Nobody calls sync.now: the engines reconnect by themselves and flush their outboxes.
    const all = [...sent.values()].flat();
    assert.equal(new Set(all).size, 2 * COUNT);
    const receivedIds = () => new Set(said(bob).map((m) => m.id));
    await bob.waitFor(() => all.every((id) => receivedIds().has(id)), 45_000, 'every message after the restart');
    for (const e of [alice, carol]) {
      await until(`${e.username}'s outbox to drain`, async () => {
        const own = [...await history(e, '@bob'), ...await history(e, '#ops')].filter((m) => m.sender === e.username);
        return own.length === COUNT && own.every((m) => m.status === 'sent' || m.status === 'delivered');
      });
    }
    await bob.engine.api.call('sync.now', {});

    assert.deepEqual([...countBy(said(bob).map((m) => m.id))].filter(([, n]) => n !== 1), [], 'no message twice');
    for (const [e, ids] of sent) {
      assert.deepEqual(said(bob).filter((m) => m.sender === e.username).map((m) => m.id), ids, `${e.username}'s messages, each once, in order`);
    }
    assert.equal(said(bob).length, 2 * COUNT);
    const stored = [...await history(bob, '@alice'), ...await history(bob, '@carol'), ...await history(bob, '#ops')].map((m) => m.id);
    assert.deepEqual(stored.sort(), [...all].sort());
    assert.deepEqual(bob.events.filter((e) => e.name === 'message.undecryptable'), []);
  });
});
