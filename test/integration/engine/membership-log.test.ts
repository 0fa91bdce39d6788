// Issue 12, finding 2: a relay that adds its own member to a private channel. The operator writes its account into
// the channel's member table and announces it as if Alice had added it; the relay then routes the channel to that
// account's devices and lists it as a member. Members take membership from the channel's signed log instead, so
// the account gets no key, reads nothing, and what it sends is not shown. Every change shows who made it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from '../../../core/crypto/sodium.ts';
import { createChannel, history, idOf, startOrg, type TestEngine, type TestOrg } from '../../support/engines.ts';

describe('engine: channel membership the members can verify', () => {
  let org: TestOrg;
  let alice: TestEngine;
  let bob: TestEngine;
  let carol: TestEngine;
  let mallory: TestEngine; // an ordinary account the relay's operator controls
  let channelId: string;

  before(async () => {
    org = await startOrg();
    alice = await org.addUser('alice');
    bob = await org.addUser('bob');
    carol = await org.addUser('carol');
    mallory = await org.addUser('mallory');
    await createChannel(alice, 'secret', ['bob']);
    channelId = (await idOf(alice.engine.api, '#secret')).slice(2);
  });
  after(() => org.close());

  const send = async (from: TestEngine, text: string) => from.engine.api.call('messages.send', { conversation: `c:${channelId}`, text });
  const arrives = (on: TestEngine, id: string) => on.waitFor(() => on.received().find((m) => m.id === id), 15_000, `message ${id}`);
  const membersSeenBy = async (e: TestEngine) => (await e.engine.api.call('conversations.list', {})).conversations.find((c) => c.id === `c:${channelId}`)?.members;
  const accountOf = (username: string) => org.server.store.getAccountByUsername(username)!.accountId;

  it('shows who added whom, from the signed log, to the member added and to those already in', async () => {
    const notices = (await history(bob, '#secret', { notices: true })).filter((m) => m.notice === 'membership');
    assert.deepEqual(notices.map((m) => ({ by: m.sender, ...m.membership })), [{ by: 'alice', change: 'added', members: ['bob'] }],
      'bob sees the change that let him in, not the channel\'s earlier past');
    await alice.engine.api.call('channels.add', { conversation: `c:${channelId}`, username: 'carol' });
    await alice.engine.api.call('channels.setRole', { conversation: `c:${channelId}`, username: 'bob', role: 'admin' });
    await bob.waitFor(() => bob.received().filter((m) => m.notice === 'membership').length >= 3, 15_000, 'the two notices');
    const seen = (await history(bob, '#secret', { notices: true })).filter((m) => m.notice === 'membership').map((m) => ({ by: m.sender, ...m.membership }));
    assert.deepEqual(seen.slice(1), [{ by: 'alice', change: 'added', members: ['carol'] }, { by: 'alice', change: 'role', members: ['bob'], role: 'admin' }]);
    assert.deepEqual(await membersSeenBy(bob), ['alice', 'bob', 'carol']);
  });

  it('a member without the right is told so before anything reaches the relay', async () => {
    await assert.rejects(carol.engine.api.call('channels.add', { conversation: `c:${channelId}`, username: 'mallory' }),
      (e: { code: string; message: string }) => e.code === 'FORBIDDEN' && /may not add members/.test(e.message));
  });

  it('the relay adds its own account to the channel: it is given no key, reads nothing, and is not shown or heard', async () => {
    // the operator's edit: mallory in the member table, announced as a change alice made
    org.server.store.setMember(channelId, accountOf('mallory'), 'member');
    const devices = org.server.store.channelDeviceIds(channelId);
    const heard = alice.events.length; // (a message arriving updates its conversation too: only what follows the notice)
    await org.server.hub.postNotice({ kind: 'membership', channel: channelId, change: 'joined', accounts: [accountOf('mallory')], by: accountOf('alice'), role: 'member' }, channelId, devices, randomBytes(16));
    await alice.waitFor(() => alice.events.slice(heard).some((e) => e.name === 'conversation.updated'), 15_000, 'the forged notice');

    const secret = await send(alice, 'only alice, bob and carol may read this');
    await arrives(bob, secret.id);
    await arrives(carol, secret.id);
    // the relay routed the envelope to mallory too; she asks for the key, and nobody hands it to a non-member
    await mallory.waitFor(() => mallory.events.some((e) => e.name === 'message.undecryptable'), 15_000, 'mallory to be unable to read the envelope');
    for (const e of [mallory, alice, bob, carol, mallory]) await e.engine.api.call('sync.now', {});
    assert.equal(mallory.received().some((m) => m.id === secret.id), false, 'mallory never shows the message');
    assert.equal((await mallory.engine.api.call('messages.search', { query: 'only alice' })).messages.length, 0);

    // nobody lists her, and the forged "joined" left no notice
    for (const e of [alice, bob, carol]) {
      assert.deepEqual(await membersSeenBy(e), ['alice', 'bob', 'carol'], `${e.username}'s member list`);
      assert.equal((await history(e, '#secret', { notices: true })).some((m) => m.sender === 'mallory' || m.membership?.members.includes('mallory')), false);
    }
    // she cannot send as a member either: her own engine finds no member who let her in
    await assert.rejects(mallory.engine.api.call('messages.send', { conversation: `c:${channelId}`, text: 'hello from the relay' }),
      (e: { code: string }) => e.code === 'FORBIDDEN');
  });

  it('a member removed from the log gets no new key; the log goes on after the relay\'s edit', async () => {
    await alice.engine.api.call('channels.remove', { conversation: `c:${channelId}`, username: 'carol' });
    const after = await send(bob, 'carol is gone');
    await arrives(alice, after.id);
    assert.deepEqual(await membersSeenBy(alice), ['alice', 'bob']);
    const notice = (await history(alice, '#secret', { notices: true })).filter((m) => m.notice === 'membership').at(-1);
    assert.deepEqual({ by: notice?.sender, ...notice?.membership }, { by: 'alice', change: 'removed', members: ['carol'] });
  });
});
