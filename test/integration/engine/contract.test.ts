// The contract a store-driven UI lives on: conversations by id with unread and mention counts and their last
// message, history that pages both ways, events numbered so a client can resume, typing indicators, typed
// settings, display names, long operations with progress and cancel, and expiry on time. Real engines and relay.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ConversationViewT, MessageViewT } from '../../../core/api/contract.ts';
import { idOf, startOrg, type TestEngine, type TestOrg } from '../../support/engines.ts';

describe('engine: the contract a UI needs', () => {
  let org: TestOrg;
  let ann: TestEngine;
  let ben: TestEngine;
  let cat: TestEngine;
  let general: string;

  before(async () => {
    org = await startOrg();
    ann = await org.addUser('ann');
    ben = await org.addUser('ben');
    cat = await org.addUser('cat');
    general = (await ann.engine.api.call('channels.create', { name: 'general' })).id;
    await ann.engine.api.call('channels.add', { conversation: general, username: 'ben' });
    await ann.engine.api.call('channels.add', { conversation: general, username: 'cat' });
  });
  after(() => org.close());

  const arrives = (e: TestEngine, id: string) => e.waitFor(() => e.received().find((m) => m.id === id), 15_000, `message ${id}`);
  const listed = async (e: TestEngine, id: string): Promise<ConversationViewT | undefined> =>
    (await e.engine.api.call('conversations.list', {})).conversations.find((c) => c.id === id);

  it('lists channels, direct and group conversations by id, with unread and mention counts and the last message', async () => {
    const dm = await ann.engine.api.call('messages.send', { conversation: await idOf(ann.engine.api, '@ben'), text: 'hi ben' });
    const group = await ann.engine.api.call('messages.send', { conversation: await idOf(ann.engine.api, '@ben,cat'), text: 'the three of us' });
    const plain = await cat.engine.api.call('messages.send', { conversation: general, text: 'morning all' });
    const mention = await cat.engine.api.call('messages.send', { conversation: general, text: 'ping @ben about lunch' });
    for (const m of [dm, group, plain, mention]) await arrives(ben, m.id);

    const { conversations } = await ben.engine.api.call('conversations.list', {});
    const byId = new Map(conversations.map((c) => [c.id, c]));
    assert.deepEqual(new Set(conversations.map((c) => c.kind)), new Set(['channel', 'direct', 'group']));
    const channel = byId.get(general)!;
    assert.equal(channel.unread, 2);
    assert.equal(channel.mentions, 1, 'only the message that names ben counts as a mention');
    assert.equal(channel.lastMessage?.id, mention.id);
    assert.equal(channel.lastMessage?.text, 'ping @ben about lunch');
    assert.equal(byId.get(await idOf(ben.engine.api, '@ann'))?.lastMessage?.sender, 'ann');
    assert.deepEqual(byId.get(group.conversation)?.members, ['ann', 'ben', 'cat'], 'a group has the same id on every member\'s device');

    await ben.engine.api.call('messages.markRead', { conversation: general, upTo: mention.id });
    const read = await listed(ben, general);
    assert.equal(read?.unread, 0);
    assert.equal(read?.mentions, 0);
  });

  it('counts replies in a thread as mentions when they name the user, never as unread in the channel (as Slack does)', async () => {
    const root = await cat.engine.api.call('messages.send', { conversation: general, text: 'release plan, comments in the thread' });
    await arrives(ben, root.id);
    await ben.engine.api.call('messages.markRead', { conversation: general, upTo: root.id });
    const plain = await cat.engine.api.call('messages.send', { conversation: general, text: 'first comment', replyTo: root.id });
    const naming = await cat.engine.api.call('messages.send', { conversation: general, text: '@ben what do you think?', replyTo: plain.id });
    for (const m of [plain, naming]) await arrives(ben, m.id);
    const after = await listed(ben, general);
    assert.equal(after?.unread, 0, 'the channel\'s own list has nothing new');
    assert.equal(after?.mentions, 1, 'the reply that names ben is a mention');
    const quoted = await cat.engine.api.call('messages.send', { conversation: general, text: 'a quoted reply is in the list', replyTo: root.id, quote: true });
    await arrives(ben, quoted.id);
    assert.equal((await listed(ben, general))?.unread, 1, 'a quoted reply is shown in the channel, and counted');
    const listRead = await ben.engine.api.call('messages.markRead', { conversation: general, upTo: quoted.id });
    assert.deepEqual(listRead, { mentions: 1 }, 'reading the channel\'s list leaves the mention in its unread thread');
    assert.deepEqual([(await listed(ben, general))?.unread, (await listed(ben, general))?.mentions], [0, 1]);
    const early = await ben.engine.api.call('messages.markRead', { conversation: general, upTo: plain.id, thread: root.id });
    assert.deepEqual(early, { mentions: 1 }, 'the thread read up to a reply before the mention leaves it');
    const threadRead = await ben.engine.api.call('messages.markRead', { conversation: general, upTo: naming.id, thread: root.id });
    assert.deepEqual(threadRead, { mentions: 0 }, 'reading the thread reads its mention');
    assert.equal((await listed(ben, general))?.mentions, 0);
  });

  it('resolves #channel and @user sugar to one stable id, and refuses what does not exist', async () => {
    assert.equal(await idOf(ben.engine.api, '#general'), general);
    const group = await idOf(cat.engine.api, '@ann,ben');
    assert.equal(await idOf(cat.engine.api, '@ben,ann'), group, 'the same people name the same group');
    await assert.rejects(idOf(ann.engine.api, '@nobody'), (e: { code: string }) => e.code === 'NOT_FOUND');
    await assert.rejects(idOf(ann.engine.api, '#nope'), (e: { code: string }) => e.code === 'NOT_FOUND');
    await assert.rejects(ann.engine.api.call('messages.list', { conversation: 'c:AAAAAAAAAAAAAAAAAAAAAA' }), (e: { code: string }) => e.code === 'NOT_FOUND');
  });

  it('pages history both ways: newest, before, after and around a message, oldest first', async () => {
    const room = (await ann.engine.api.call('channels.create', { name: 'pages' })).id;
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push((await ann.engine.api.call('messages.send', { conversation: room, text: `m${i}` })).id);
    const texts = (page: { messages: MessageViewT[] }) => page.messages.map((m) => m.text);
    const list = (extra: object) => ann.engine.api.call('messages.list', { conversation: room, limit: 10, ...extra });

    const newest = await list({});
    assert.deepEqual(texts(newest), Array.from({ length: 10 }, (_, i) => `m${15 + i}`));
    assert.deepEqual([newest.hasOlder, newest.hasNewer], [true, false]);
    const older = await list({ before: newest.messages[0]!.id });
    assert.deepEqual(texts(older), Array.from({ length: 10 }, (_, i) => `m${5 + i}`));
    const oldest = await list({ before: older.messages[0]!.id });
    // the history starts where the channel did: Ann's signed "created" entry, shown in place
    assert.deepEqual(texts(oldest), ['', 'm0', 'm1', 'm2', 'm3', 'm4']);
    assert.deepEqual({ ...oldest.messages[0]!.membership, sender: oldest.messages[0]!.sender }, { change: 'created', members: ['ann'], sender: 'ann' });
    assert.deepEqual([oldest.hasOlder, oldest.hasNewer], [false, true]);
    const after = await list({ after: ids[19] });
    assert.deepEqual(texts(after), ['m20', 'm21', 'm22', 'm23', 'm24']);
    assert.deepEqual([after.hasOlder, after.hasNewer], [true, false]);
    const forward = await list({ after: ids[5] });
    assert.deepEqual(texts(forward), Array.from({ length: 10 }, (_, i) => `m${6 + i}`), 'a full page forward, oldest first');
    assert.deepEqual([forward.hasOlder, forward.hasNewer], [true, true], 'and it says more lie after it');
    const around = await list({ around: ids[12] });
    assert.deepEqual(texts(around), ['m8', 'm9', 'm10', 'm11', 'm12', 'm13', 'm14', 'm15', 'm16', 'm17'], 'the message, half a page before it, the rest after');
    assert.deepEqual([around.hasOlder, around.hasNewer], [true, true]);
    await assert.rejects(list({ before: ids[0], after: ids[1] }), (e: { code: string }) => e.code === 'BAD_REQUEST');
  });

  it('numbers every event, so a client that missed some catches up from the last one it saw', async () => {
    const { seq } = await ben.engine.api.call('conversations.list', {});
    const sent = await ann.engine.api.call('messages.send', { conversation: general, text: 'while ben was away' });
    await arrives(ben, sent.id);
    const missed = await ben.engine.api.call('events.since', { after: seq });
    assert.ok(missed.complete);
    assert.ok(missed.events.every((e, i) => e.seq === seq + 1 + i), 'consecutive numbers, from the one after');
    assert.ok(missed.events.some((e) => e.name === 'message.received' && (e.payload as MessageViewT).id === sent.id));
    assert.equal(missed.seq, missed.events.at(-1)!.seq);
    assert.deepEqual((await ben.engine.api.call('events.since', { after: missed.seq })).events, []);
  });

  it('shows typing indicators in direct messages and channels, and none once typing is switched off', async () => {
    const dm = await idOf(ann.engine.api, '@ben');
    const typingOn = (e: TestEngine, conversation: string, from: string, typing: boolean) => e.waitFor(() => e.events.find((x) => x.name === 'typing'
      && (x.payload as { conversation: string }).conversation === conversation && (x.payload as { username: string }).username === from
      && (x.payload as { typing: boolean }).typing === typing), 15_000, `typing ${typing} from ${from}`);
    await ann.engine.api.call('conversations.typing', { conversation: dm, typing: true });
    await typingOn(ben, await idOf(ben.engine.api, '@ann'), 'ann', true);
    await ann.engine.api.call('conversations.typing', { conversation: dm, typing: false });
    await typingOn(ben, await idOf(ben.engine.api, '@ann'), 'ann', false);
    await ben.engine.api.call('conversations.typing', { conversation: general, typing: true });
    await typingOn(ann, general, 'ben', true);
    await typingOn(cat, general, 'ben', true);

    await cat.engine.api.call('settings.set', { typing: false });
    const before = cat.events.length;
    await ann.engine.api.call('conversations.typing', { conversation: general, typing: true });
    await typingOn(ben, general, 'ann', true); // ben still sees it: the signal went out
    const marker = await ann.engine.api.call('messages.send', { conversation: general, text: 'after typing' });
    await arrives(cat, marker.id);
    assert.ok(!cat.events.slice(before).some((x) => x.name === 'typing'), 'off means cat is shown no typing');
    await cat.engine.api.call('settings.set', { typing: true });
  });

  it('keeps typed settings, announces changes, and still has them after a reopen', async () => {
    const defaults = await cat.engine.api.call('settings.get', {});
    assert.deepEqual(defaults, { receipts: true, typing: true, notifications: 'all', notificationContent: false, lockAfterSeconds: 900, theme: 'system', screenCaptureProtection: false, linkPreviews: true, sendOriginalImages: false });
    const changed = await cat.engine.api.call('settings.set', { theme: 'dark', lockAfterSeconds: 60, notifications: 'mentions' });
    assert.equal(changed.theme, 'dark');
    assert.ok(cat.events.some((e) => e.name === 'settings.changed' && (e.payload as { theme: string }).theme === 'dark'));
    await assert.rejects(cat.engine.api.call('settings.set', { theme: 'neon' as 'dark' }), (e: { code: string }) => e.code === 'BAD_REQUEST');
    cat = await cat.reopen();
    assert.deepEqual(await cat.engine.api.call('settings.get', {}), { ...defaults, theme: 'dark', lockAfterSeconds: 60, notifications: 'mentions' });
  });

  it('sends display names end to end to the people one shares conversations with, cleaned of control characters', async () => {
    await ann.engine.api.call('account.setDisplayName', { displayName: 'Ann\u202e Lee\n' });
    const shown = await ben.waitFor(() => ben.events.find((e) => e.name === 'contact.updated' && (e.payload as { username: string }).username === 'ann'), 15_000, 'ann\'s name');
    assert.deepEqual(shown.payload, { username: 'ann', displayName: 'Ann Lee', verified: false, identity: 'accepted' });
    assert.equal((await ann.engine.api.call('account.whoami', {})).displayName, 'Ann Lee');
    const { contacts } = await ben.engine.api.call('contacts.list', {});
    assert.equal(contacts.find((c) => c.username === 'ann')?.displayName, 'Ann Lee');
  });

  it('removes an expiring message on every device at its deadline, not at the next poll', async () => {
    const sent = await ann.engine.api.call('messages.send', { conversation: general, text: 'gone in five seconds', timers: { expiresInSeconds: 5 } });
    await arrives(ben, sent.id);
    // one timer armed for the soonest deadline: a 30-second poll would miss this wait by far
    for (const e of [ann, ben]) {
      await e.waitFor(() => e.events.find((x) => x.name === 'message.removed' && (x.payload as { id: string }).id === sent.id), 9_000, `expiry on ${e.username}`);
    }
    const page = await ben.engine.api.call('messages.list', { conversation: general, limit: 200 });
    assert.ok(!page.messages.some((m) => m.id === sent.id));
  });

  it('reports a sync\'s progress under the caller\'s operation id, and a cancel stops it', async () => {
    const progress = ben.events.length;
    await ben.engine.api.call('sync.now', { operation: 'sync-1' });
    assert.ok(ben.events.slice(progress).some((e) => e.name === 'operation.progress' && (e.payload as { operation: string }).operation === 'sync-1'));

    await org.server.close(); // a sync that cannot finish until cancelled
    await ben.waitFor(() => ben.events.slice(progress).find((e) => e.name === 'connection.state' && (e.payload as { state: string }).state !== 'online'), 15_000, 'the relay gone');
    const running = ben.engine.api.call('sync.now', { operation: 'sync-2' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(await ben.engine.api.call('operations.cancel', { operation: 'sync-2' }), { cancelled: true });
    await assert.rejects(running, (e: { code: string }) => e.code === 'CANCELLED');
    assert.deepEqual(await ben.engine.api.call('operations.cancel', { operation: 'sync-2' }), { cancelled: false }, 'it is gone once stopped');
  });
});
