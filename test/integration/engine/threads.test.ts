// Quoted replies and threads, as the desktop app's conversation view uses them: a quoted reply stays in the
// conversation (no thread), a thread reply counts on its root on both sides (an update of the root tells a window
// the count changed), messages.thread gives the panel its root and replies, and channels.members lists roles.
// Real engines, vaults and relay.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageViewT } from '../../../core/api/contract.ts';
import { startOrg, type TestEngine, type TestOrg, idOf } from '../../support/engines.ts';

describe('engine: quoted replies, threads and the member list', () => {
  let org: TestOrg;
  let ann: TestEngine;
  let ben: TestEngine;
  let general = '';

  before(async () => {
    org = await startOrg();
    ann = await org.addUser('ann');
    ben = await org.addUser('ben');
    await ann.engine.api.call('channels.create', { name: 'general' });
    general = await idOf(ann.engine.api, '#general');
    await ann.engine.api.call('channels.add', { conversation: general, username: 'ben' });
  });
  after(() => org.close());

  const latest = (e: TestEngine, id: string) => [...e.events].reverse().find((x) => (x.name === 'message.received' || x.name === 'message.updated') && (x.payload as MessageViewT).id === id)?.payload as MessageViewT | undefined;
  const arrives = (e: TestEngine, id: string) => e.waitFor(() => latest(e, id), 15_000, `message ${id}`);

  it('keeps a quoted reply in the conversation, naming what it answers, on both sides', async () => {
    const question = await ann.engine.api.call('messages.send', { conversation: general, text: 'lunch at noon?' });
    await arrives(ben, question.id);
    const answer = await ben.engine.api.call('messages.send', { conversation: await idOf(ben.engine.api, '#general'), text: 'yes', replyTo: question.id, quote: true });
    assert.equal(answer.replyTo, question.id);
    assert.equal(answer.threadRoot, undefined, 'no thread on the sender');
    const got = await arrives(ann, answer.id);
    assert.deepEqual([got.replyTo, got.threadRoot], [question.id, undefined], 'no thread on the receiver either');
    assert.equal((await ann.engine.api.call('messages.list', { conversation: general, around: question.id, limit: 10 })).messages.find((m) => m.id === question.id)?.replyCount, undefined, 'a quote is not a thread reply');
    await assert.rejects(ben.engine.api.call('messages.send', { conversation: await idOf(ben.engine.api, '#general'), text: 'x', quote: true }), /replyTo/);
  });

  it('counts a thread\'s replies on its root on both sides, and gives the panel the root and its replies', async () => {
    const root = await ann.engine.api.call('messages.send', { conversation: general, text: 'release notes draft' });
    await arrives(ben, root.id);
    const first = await ben.engine.api.call('messages.send', { conversation: await idOf(ben.engine.api, '#general'), text: 'looks good', replyTo: root.id });
    assert.equal(first.threadRoot, root.id);
    await ann.waitFor(() => latest(ann, root.id)?.replyCount === 1, 15_000, 'the root updated with one reply on the other side');
    assert.equal(latest(ben, root.id)?.replyCount, 1, 'and on the replier\'s own side');
    const second = await ann.engine.api.call('messages.send', { conversation: general, text: 'thanks', replyTo: first.id });
    await ben.waitFor(() => latest(ben, root.id)?.replyCount === 2, 15_000, 'two replies');

    const thread = await ben.engine.api.call('messages.thread', { root: root.id, limit: 100 });
    assert.equal(thread.root.id, root.id);
    assert.equal(thread.root.replyCount, 2);
    assert.deepEqual(thread.replies.map((m) => m.text), ['looks good', 'thanks'], 'oldest first');
    assert.equal(thread.hasOlder, false);
    const newestOnly = await ben.engine.api.call('messages.thread', { root: root.id, limit: 1 });
    assert.deepEqual([newestOnly.replies.map((m) => m.id), newestOnly.hasOlder], [[second.id], true]);
    const page = await ben.engine.api.call('messages.list', { conversation: await idOf(ben.engine.api, '#general'), limit: 50 });
    assert.equal(page.messages.find((m) => m.id === root.id)?.replyCount, 2, 'history pages carry the count');
    await assert.rejects(ben.engine.api.call('messages.thread', { root: 'A'.repeat(22), limit: 10 }), /gone/);
  });

  it('carries a reaction with a variation selector (as the emoji picker gives them)', async () => {
    const m = await ben.engine.api.call('messages.send', { conversation: await idOf(ben.engine.api, '#general'), text: 'react to me' });
    await arrives(ann, m.id);
    await ann.engine.api.call('messages.react', { id: m.id, emoji: '👍\uFE0F' });
    await ben.waitFor(() => latest(ben, m.id)?.reactions[0]?.users.join() === 'ann', 15_000, 'the reaction');
  });

  it('lists a channel\'s members with their roles', async () => {
    assert.deepEqual((await ben.engine.api.call('channels.members', { conversation: await idOf(ben.engine.api, '#general') })).members,
      [{ username: 'ann', role: 'owner' }, { username: 'ben', role: 'member' }]);
    await assert.rejects(ann.engine.api.call('channels.members', { conversation: 'd:ben' }), /not a channel/);
  });
});
