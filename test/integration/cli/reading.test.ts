// Reading from the command line marks what was shown as read (receipts go out, burn-on-read starts), --peek does
// not, and a conversation that does not exist is an error, not an empty answer. The real `wardroom` in child
// processes against profiles enrolled on a real relay.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageViewT } from '../../../core/api/contract.ts';
import { idOf, startOrg, type TestEngine, type TestOrg } from '../../support/engines.ts';
import { wardroom } from '../../support/cli.ts';


describe('wardroom read', () => {
  let org: TestOrg;
  let alice: TestEngine;
  let bob: string;

  before(async () => {
    org = await startOrg();
    alice = await org.addUser('alice');
    const b = await org.addUser('bob');
    bob = b.profileDir;
    await b.engine.close(); // bob is the command line from here on
  });
  after(() => org.close());

  const readJson = async (...extra: string[]) => {
    const result = await wardroom(['--profile', bob, 'read', '@alice', '--json', ...extra]);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as MessageViewT);
  };

  it('--peek leaves a message unread; a read marks it read, sends the receipt and starts burn-on-read', { timeout: 60_000 }, async () => {
    const sent = await alice.engine.api.call('messages.send', { conversation: await idOf(alice.engine.api, '@bob'), text: 'burns 5 s after reading', timers: { burnAfterReadSeconds: 5 } });
    const peeked = await readJson('--peek');
    assert.equal(peeked.find((m) => m.id === sent.id)?.expiresAt, undefined, 'peeking starts no burn timer');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const readOnAlice = () => alice.events.find((e) => e.name === 'message.updated' && (e.payload as MessageViewT).id === sent.id && (e.payload as MessageViewT).status === 'read');
    assert.equal(readOnAlice(), undefined, 'no read receipt for a peek');
    const read = await readJson();
    const shown = read.find((m) => m.id === sent.id);
    assert.ok(shown, 'shown once more');
    await alice.waitFor(readOnAlice, 15_000, 'the read receipt');
    await new Promise((resolve) => setTimeout(resolve, 5_500));
    assert.ok(!(await readJson('--peek')).some((m) => m.id === sent.id), 'burnt 5 s after it was read');
  });

  it('refuses a channel or a person that does not exist, in one line and non-zero', async () => {
    const channel = await wardroom(['--profile', bob, 'read', '#nope']);
    assert.equal(channel.code, 1);
    assert.match(channel.stderr, /^wardroom: you are not in a channel named #nope\n$/);
    const person = await wardroom(['--profile', bob, 'read', '@nobody']);
    assert.equal(person.code, 1);
    assert.match(person.stderr, /^wardroom: no user @nobody in this organisation\n$/);
  });
});
