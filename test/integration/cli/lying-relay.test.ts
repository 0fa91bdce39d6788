// A lying relay as a person meets it on the command line: the real `wardroom` binary, one process per command,
// against a real relay on loopback that lies. An impostor with a certificate of its own at the relay's address
// (docs/protocol.md "The relay's certificate"): every command that would reach the relay fails with the alarm, in
// one line, non-zero, never "pending" and exit 0, and nothing reaches the impostor; once the real relay is back a
// message is sent once. A relay serving a contact's identity under a key of its own: the send is held, the line
// names the command that accepts THAT contact (verifying again for a verified one), and `safety-number` says the
// key changed and is not accepted yet.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { cliOrg, wardroom, type CliOrg, type CliRun } from '../../support/cli.ts';
import { serveForgedIdentity, startHostileRelay, type HostileRelay } from '../../support/hostile-relay.ts';
import { startImpostor, type Impostor } from '../../support/impostor.ts';
import { spawnServer } from '../../support/server-process.ts';

/** Past this a command has hung (a retry loop, a wait with no end): it is killed and the test says so. */
const HUNG_MS = 20_000;

const ok = (run: CliRun, what: string) => assert.equal(run.code, 0, `${what}: ${run.stderr}`);

/** The one line every command that would reach an impostor ends with. */
const alarmFor = (relay: string) => new RegExp(`^wardroom: the relay at ${relay.replaceAll('.', '\\.')} presented a TLS key that is not the pinned one: `
  + 'the connection may be intercepted, so nothing was sent');

describe('wardroom meeting an impostor at the relay\'s address (another certificate)', () => {
  let org: CliOrg;
  let impostor: Impostor | undefined;
  let port = 0;
  let firstId = '';
  const alice = (args: string[]) => wardroom(['--profile', org.profile('alice'), ...args], { killAfterMs: HUNG_MS });

  before(async () => {
    org = await cliOrg(['alice', 'bob'], { tls: true });
    ok(await org.as('alice', ['channel', 'create', 'general']), 'channel create');
    ok(await org.as('alice', ['channel', 'add', 'general', 'bob']), 'channel add');
    const first = await org.as('alice', ['send', '@bob', 'before the impostor', '--json']);
    ok(first, 'the first send');
    firstId = (JSON.parse(first.stdout) as { id: string }).id;
    port = Number(new URL(org.relay.url).port);
    await org.relay.kill('SIGTERM');
    impostor = await startImpostor(port);
  });
  after(async () => {
    await impostor?.close();
    await org?.close();
  });

  it('send fails with the alarm, not "pending" and exit 0: to a person, to a channel, and under --json', async () => {
    for (const target of ['@bob', '#general']) {
      const run = await alice(['send', target, `to ${target} while an impostor answers`]);
      assert.equal(run.signal, null, `${target}: hung`);
      assert.equal(run.code, 1, `${target}: ${run.stdout}${run.stderr}`);
      assert.equal(run.stdout, '', 'no message id, no state');
      assert.match(run.stderr, alarmFor(org.relay.url));
      assert.equal(run.stderr.trim().split('\n').length, 1, `one line: ${run.stderr}`);
      // refused before anything was stored: nothing waits to go out later, so sending it again cannot double it
      assert.doesNotMatch(run.stderr, /queued|pending|cannot be reached|kept/);
    }
    const json = await alice(['send', '@bob', 'json while an impostor answers', '--json']);
    assert.equal(json.code, 1, json.stdout);
    assert.equal(json.stdout, '');
    const error = JSON.parse(json.stderr.trim()) as { code: string; message: string };
    assert.equal(error.code, 'UNTRUSTED_RELAY');
    assert.match(`wardroom: ${error.message}`, alarmFor(org.relay.url));
    assert.doesNotMatch(error.message, /kept/);
  });

  it('every other command that reaches the relay fails with the same alarm, at once', async () => {
    const commands = [
      ['sync'], ['read', '@bob'], ['invite'], ['whoami'], ['devices'], ['policy', 'show'],
      ['channel', 'create', 'impostor'], ['channel', 'topic', 'general', 'topic while an impostor answers'],
      ['react', firstId, '👍'], ['edit', firstId, 'edited while an impostor answers'], ['delete', firstId],
      ['timer', '@bob', '1h'], ['receipts', 'off'], ['download', firstId, '--out', path.join(org.root, 'downloads')],
    ];
    for (const args of commands) {
      const run = await alice(args);
      assert.equal(run.signal, null, `${args.join(' ')}: hung`);
      assert.equal(run.code, 1, `${args.join(' ')}: ${run.stdout}${run.stderr}`);
      assert.match(run.stderr, alarmFor(org.relay.url), args.join(' '));
      assert.equal(run.stderr.trim().split('\n').length, 1, `${args.join(' ')}: one line: ${run.stderr}`);
    }
    assert.deepEqual(impostor!.seen.requests, [], 'no request (no login, no token) reached the impostor');
    assert.deepEqual(impostor!.seen.upgrades, [], 'no WebSocket upgrade reached it');
  });

  it('what only reads this device still answers: the conversations and a search', async () => {
    const channels = await alice(['channels']);
    ok(channels, 'channels');
    assert.match(channels.stdout, /#general/);
    const found = await alice(['search', 'impostor']);
    ok(found, 'search');
    assert.match(found.stdout, /before the impostor/);
    assert.doesNotMatch(found.stdout, /while an impostor answers/, 'no refused send was kept');
  });

  it('with the real relay back, sending again sends once: nothing refused went out, nothing is doubled', async () => {
    await impostor!.close();
    impostor = undefined;
    await spawnServer(path.join(org.root, 'relay'), ['--port', String(port)], { tls: true });
    ok(await alice(['sync']), 'sync');
    ok(await alice(['send', '@bob', 'to @bob while an impostor answers']), 'the send again');
    const read = await org.as('bob', ['read', '@alice', '--json']);
    ok(read, 'bob reads');
    const texts = read.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { text: string }).text);
    assert.deepEqual(texts, ['before the impostor', 'to @bob while an impostor answers']);
    const mine = await alice(['read', '@bob', '--json', '--peek']);
    assert.deepEqual(mine.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { text: string }).text), texts);
  });
});

describe('wardroom meeting a relay that serves a contact\'s identity under a key of its own', () => {
  let org: CliOrg;
  let hostile: HostileRelay;
  const person = async (username: string) => {
    const me = await org.as(username, ['whoami', '--json']);
    ok(me, `${username} whoami`);
    return JSON.parse(me.stdout) as { username: string; accountId: string; deviceId: string };
  };

  before(async () => {
    org = await cliOrg(['alice', 'bob', 'carol'], {
      front: async (relay) => {
        hostile = await startHostileRelay(relay.url);
        return hostile.url;
      },
    });
    ok(await org.as('alice', ['send', '@bob', 'hello bob']), 'alice to bob');
    ok(await org.as('alice', ['send', '@carol', 'hello carol']), 'alice to carol');
    ok(await org.as('alice', ['safety-number', 'carol', '--verified']), 'carol verified');
    serveForgedIdentity(hostile, await person('bob'), 99);
    serveForgedIdentity(hostile, await person('carol'), 99);
  });
  after(async () => {
    await org?.close();
    await hostile?.close();
  });

  it('a verified contact\'s send is held, naming the command that verifies THAT contact again; accepting alone is refused', async () => {
    const held = await org.as('alice', ['send', '@carol', 'still you, carol?']);
    assert.equal(held.code, 1, held.stdout);
    assert.equal(held.stdout, '');
    assert.match(held.stderr, /^wardroom: held, not sent: @carol's safety number changed since you verified it\./);
    assert.match(held.stderr, /wardroom safety-number carol\b/);
    assert.match(held.stderr, /wardroom safety-number carol --verified/);
    assert.doesNotMatch(held.stderr, /--accept|NAME|@bob/);

    const accept = await org.as('alice', ['safety-number', 'carol', '--accept']);
    assert.equal(accept.code, 1, accept.stdout);
    assert.match(accept.stderr, /verif/);
  });

  it('an unverified contact\'s send is held, naming that contact alone and the command to accept them', async () => {
    const held = await org.as('alice', ['send', '@bob', 'still you, bob?']);
    assert.equal(held.code, 1, held.stdout);
    assert.match(held.stderr, /^wardroom: held, not sent: @bob's safety number changed\./);
    assert.match(held.stderr, /wardroom safety-number bob --accept/);
    assert.doesNotMatch(held.stderr, /carol|NAME/, 'only the contact of this conversation');
    assert.equal(held.stderr.trim().split('\n').length, 1);
  });

  it('safety-number says the key changed and is not accepted yet; the relay serving it again (each command fetches it afresh) accepts nothing', async () => {
    const shown = await org.as('alice', ['safety-number', 'bob']);
    ok(shown, 'safety-number');
    assert.match(shown.stdout, /^(\d{5} ){11}\d{5} {2}\(changed, not accepted: messages to @bob are held\)$/m);
    assert.match(shown.stderr, /wardroom safety-number bob --accept/);
    const verified = await org.as('alice', ['safety-number', 'carol', '--json']);
    ok(verified, 'safety-number --json');
    assert.equal((JSON.parse(verified.stdout) as { identity: string; verified: boolean }).identity, 'changed-while-verified');

    ok(await org.as('alice', ['sync']), 'sync');
    const still = await org.as('alice', ['send', '@bob', 'still held?']);
    assert.equal(still.code, 1, 'the relay cannot make the client accept');
  });

  it('accepting sends what was held, and the number no longer says changed', async () => {
    const accepted = await org.as('alice', ['safety-number', 'bob', '--accept']);
    ok(accepted, 'accept');
    assert.doesNotMatch(accepted.stdout, /changed/);
    const history = await org.as('alice', ['read', '@bob', '--json', '--peek']);
    const held = history.stdout.trim().split('\n').map((line) => JSON.parse(line) as { text: string; status: string }).filter((m) => m.text === 'still you, bob?');
    assert.equal(held.length, 1);
    assert.notEqual(held[0]!.status, 'held', 'it left the hold');
    const sent = await org.as('alice', ['send', '@bob', 'after accepting']);
    ok(sent, 'send after accepting');
    assert.match(sent.stdout.trim(), / (sent|pending)$/);
  });
});
