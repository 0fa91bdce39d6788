// A lying relay as a person meets it on the command line: the real `wardroom` binary, one process per command,
// against a real relay on loopback that lies. A relay serving a contact's identity under a key of its own: the send
// is held, the line names the command that accepts THAT contact (verifying again for a verified one), and
// `safety-number` says the key changed and is not accepted yet.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cliOrg, type CliOrg, type CliRun } from '../../support/cli.ts';
import { serveForgedIdentity, startHostileRelay, type HostileRelay } from '../../support/hostile-relay.ts';

const ok = (run: CliRun, what: string) => assert.equal(run.code, 0, `${what}: ${run.stderr}`);

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
