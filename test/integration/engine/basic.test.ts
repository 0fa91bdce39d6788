// First contact: people join with invite links, talk in a channel and in direct messages, through real engines,
// real vaults and a real relay.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createChannel, startOrg, type TestEngine, type TestOrg, textsIn, idOf } from '../../support/engines.ts';

describe('engine: join and talk', () => {
  let org: TestOrg;
  let alice: TestEngine;
  let bob: TestEngine;

  before(async () => {
    org = await startOrg();
    alice = await org.addUser('alice');
    bob = await org.addUser('bob');
  });
  after(() => org.close());

  it('delivers a direct message, decrypted, to the recipient', async () => {
    const sent = await alice.engine.api.call('messages.send', { conversation: await idOf(alice.engine.api, '@bob'), text: 'hello bob' });
    assert.equal(sent.status, 'sent');
    const got = await bob.waitFor(() => bob.received().find((m) => m.id === sent.id), 15_000, 'the DM');
    assert.equal(got.text, 'hello bob');
    assert.equal(got.sender, 'alice');
    assert.equal(got.conversation, 'd:alice');
    const history = await bob.engine.api.call('messages.list', { conversation: await idOf(bob.engine.api, '@alice'), limit: 10 });
    assert.deepEqual(history.messages.map((m) => m.text), ['hello bob']);
  });

  it('delivers channel messages to members', async () => {
    await createChannel(alice, 'general', ['bob']);
    const sent = await alice.engine.api.call('messages.send', { conversation: await idOf(alice.engine.api, '#general'), text: 'welcome to #general' });
    const got = await bob.waitFor(() => bob.received().find((m) => m.id === sent.id), 15_000, 'the channel message');
    assert.equal(got.text, 'welcome to #general');
    const reply = await bob.engine.api.call('messages.send', { conversation: await idOf(bob.engine.api, '#general'), text: 'thanks', replyTo: sent.id });
    const back = await alice.waitFor(() => alice.received().find((m) => m.id === reply.id), 15_000, 'the reply');
    assert.equal(back.replyTo, sent.id);
    assert.deepEqual(textsIn(bob, got.conversation), ['welcome to #general']);
  });
});
