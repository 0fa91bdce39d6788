// The relay stopped halfway, as a user meets it on the command line: sends and a reaction say at once that they are
// queued and go out once the relay is back, exactly once; commands that need the relay's answer fail within
// seconds, in one line, non-zero, changing nothing. The real `wardroom` against a real relay stopped and
// restarted on the same port and data.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageViewT } from '../../../core/api/contract.ts';
import { createChannel, startOrg, type TestEngine, type TestOrg } from '../../support/engines.ts';
import { wardroom as runWardroom } from '../../support/cli.ts';
import { startTestServer, tempDir } from '../../support/server-client.ts';

/** Past this a command has hung: the bound the user was promised ("within a few seconds"), with room for a slow CI. */
const HUNG_MS = 20_000;

/** `wardroom ARGS`, with a command that runs past HUNG_MS reported as code 'hung'. */
async function wardroom(args: string[]): Promise<{ code: number | string | null; stdout: string; stderr: string }> {
  const run = await runWardroom(args, { killAfterMs: HUNG_MS });
  return { ...run, code: run.signal === 'SIGKILL' ? 'hung' : run.code };
}

describe('wardroom with the relay down', () => {
  const dataDir = tempDir();
  let org: TestOrg;
  let bob: TestEngine;
  let alice: string;
  let restarted: Awaited<ReturnType<typeof startTestServer>> | null = null;

  before(async () => {
    org = await startOrg({}, { dataDir });
    const a = await org.addUser('alice');
    bob = await org.addUser('bob');
    await createChannel(a, 'general', ['bob']);
    alice = a.profileDir;
    await a.engine.close(); // alice is the command line from here on
  });
  after(async () => {
    await org.close();
    await restarted?.close();
  });

  it('queues sends and a reaction, refuses what needs the relay, and delivers each once when it is back', { timeout: 180_000 }, async () => {
    const warm = await wardroom(['--profile', alice, 'send', '#general', 'before the outage', '--json']);
    assert.equal(warm.code, 0, warm.stderr);
    const warmId = (JSON.parse(warm.stdout) as MessageViewT).id;
    await bob.waitFor(() => bob.received().find((m) => m.id === warmId), 15_000, 'the first message');
    const port = org.server.port;
    await org.server.close();

    const sent: string[] = [];
    for (const [target, text] of [['#general', 'channel while down'], ['@bob', 'dm while down']]) {
      const result = await wardroom(['--profile', alice, 'send', target!, text!, '--json']);
      assert.equal(result.code, 0, result.stderr);
      assert.equal((JSON.parse(result.stdout) as MessageViewT).status, 'pending');
      assert.match(result.stderr, /queued: the relay cannot be reached; it goes out when the relay is back/);
      sent.push((JSON.parse(result.stdout) as MessageViewT).id);
    }
    const reacted = await wardroom(['--profile', alice, 'react', warmId, '👍']);
    assert.equal(reacted.code, 0, reacted.stderr);

    for (const args of [['channel', 'create', 'outage'], ['invite'], ['sync']]) {
      const refused = await wardroom(['--profile', alice, ...args]);
      assert.equal(refused.code, 1, `${args.join(' ')}: ${refused.stderr}`);
      assert.match(refused.stderr, /the relay at 127\.0\.0\.1:\d+ cannot be reached/, args.join(' '));
      assert.equal(refused.stderr.trim().split('\n').filter((l) => !l.includes('waiting for the relay')).length, 1, 'one line');
    }

    restarted = await startTestServer({ dataDir, port });
    const synced = await wardroom(['--profile', alice, 'sync']);
    assert.equal(synced.code, 0, synced.stderr);
    for (const id of sent) await bob.waitFor(() => bob.received().find((m) => m.id === id), 30_000, `message ${id}`);
    await bob.waitFor(() => bob.events.find((e) => e.name === 'message.updated' && (e.payload as MessageViewT).id === warmId
      && (e.payload as MessageViewT).reactions.some((r) => r.emoji === '👍')), 30_000, 'the reaction');
    await wardroom(['--profile', alice, 'sync']);
    await bob.engine.api.call('sync.now', {});
    for (const id of sent) assert.equal(bob.received().filter((m) => m.id === id).length, 1, 'exactly once');
    const channels = await wardroom(['--profile', alice, 'channels']);
    assert.doesNotMatch(channels.stdout, /#outage/, 'the refused create changed nothing');
  });
});
