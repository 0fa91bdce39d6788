// What people do with messages: edit, delete for everyone, reply in threads, react, mention, receipts, unread
// counts, search, group direct messages, safety numbers and key changes. Real engines, vaults and relay.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { signingKeyPair, toBase64Url, sign } from '../../../core/crypto/sodium.ts';
import { signDeviceList } from '../../../core/protocol/identity.ts';
import type { MessageViewT } from '../../../core/api/contract.ts';
import { createChannel, startOrg, type TestEngine, type TestOrg, idOf } from '../../support/engines.ts';
import { serveForgedIdentity, startHostileRelay, type HostileRelay } from '../../support/hostile-relay.ts';

describe('engine: messaging features', () => {
  let org: TestOrg;
  let relay: HostileRelay;
  let ann: TestEngine;
  let ben: TestEngine;
  let cat: TestEngine;

  before(async () => {
    org = await startOrg({}, {}, async (url) => (relay = await startHostileRelay(url)));
    ann = await org.addUser('ann');
    ben = await org.addUser('ben');
    cat = await org.addUser('cat');
    await ann.engine.api.call('channels.create', { name: 'general', topic: 'everything' });
    await ann.engine.api.call('channels.add', { conversation: await idOf(ann.engine.api, '#general'), username: 'ben' });
    await ann.engine.api.call('channels.add', { conversation: await idOf(ann.engine.api, '#general'), username: 'cat' });
  });
  after(() => org.close());

  const latest = (e: TestEngine, id: string) => [...e.events].reverse().find((x) => (x.name === 'message.received' || x.name === 'message.updated') && (x.payload as MessageViewT).id === id)?.payload as MessageViewT | undefined;
  const arrives = (e: TestEngine, id: string) => e.waitFor(() => latest(e, id), 15_000, `message ${id}`);

  it('edits and deletes for everyone, only the author\'s own messages', async () => {
    const sent = await ann.engine.api.call('messages.send', { conversation: await idOf(ann.engine.api, '#general'), text: 'the meeting is at 10' });
    await arrives(ben, sent.id);
    await ann.engine.api.call('messages.edit', { id: sent.id, text: 'the meeting is at 11' });
    await ben.waitFor(() => latest(ben, sent.id)?.text === 'the meeting is at 11', 15_000, 'the edit');
    assert.ok(latest(ben, sent.id)!.editedAt, 'marked as edited');
    await assert.rejects(ben.engine.api.call('messages.edit', { id: sent.id, text: 'hijack' }), /only change your own/);
    await ann.engine.api.call('messages.delete', { id: sent.id });
    await ben.waitFor(() => ben.events.some((e) => e.name === 'message.removed' && (e.payload as { id: string }).id === sent.id), 15_000, 'the delete');
    const history = await ben.engine.api.call('messages.list', { conversation: await idOf(ben.engine.api, '#general'), limit: 50 });
    assert.equal(history.messages.some((m) => m.id === sent.id), false, 'gone from history');
    assert.equal((await ben.engine.api.call('messages.search', { query: 'meeting' })).messages.length, 0, 'gone from search');
  });

  it('threads replies under their root, reacts, and records mentions', async () => {
    const root = await ann.engine.api.call('messages.send', { conversation: await idOf(ann.engine.api, '#general'), text: 'release plan? @ben @cat' });
    const r1 = await ben.engine.api.call('messages.send', { conversation: await idOf(ben.engine.api, '#general'), text: 'friday', replyTo: root.id });
    await arrives(cat, r1.id);
    const r2 = await cat.engine.api.call('messages.send', { conversation: await idOf(cat.engine.api, '#general'), text: 'agreed', replyTo: r1.id });
    const got = await arrives(ann, r2.id);
    assert.equal(got.replyTo, r1.id);
    assert.equal(got.threadRoot, root.id, 'a reply to a reply joins the first message\'s thread');
    assert.deepEqual(latest(cat, root.id)?.mentions, ['ben', 'cat']);
    await ben.engine.api.call('messages.react', { id: root.id, emoji: '👍' });
    await cat.engine.api.call('messages.react', { id: root.id, emoji: '👍' });
    await ann.waitFor(() => latest(ann, root.id)?.reactions.find((r) => r.emoji === '👍')?.users.length === 2, 15_000, 'two reactions');
    await ben.engine.api.call('messages.react', { id: root.id, emoji: '👍', remove: true });
    await ann.waitFor(() => latest(ann, root.id)?.reactions.find((r) => r.emoji === '👍')?.users.join() === 'cat', 15_000, 'one reaction left');
  });

  it('reports delivery and reads in direct messages, and counts unread', async () => {
    const sent = await ann.engine.api.call('messages.send', { conversation: await idOf(ann.engine.api, '@ben'), text: 'are you there?' });
    await ann.waitFor(() => latest(ann, sent.id)?.status === 'delivered', 15_000, 'delivered');
    await ben.engine.api.call('sync.now', {});
    const before = (await ben.engine.api.call('conversations.list', {})).conversations.find((c) => c.id === 'd:ann');
    assert.ok(before && before.unread >= 1, 'unread counted');
    await ben.engine.api.call('messages.markRead', { conversation: await idOf(ben.engine.api, '@ann'), upTo: sent.id });
    await ann.waitFor(() => latest(ann, sent.id)?.status === 'read', 15_000, 'read');
    const afterRead = (await ben.engine.api.call('conversations.list', {})).conversations.find((c) => c.id === 'd:ann');
    assert.equal(afterRead?.unread, 0);
  });

  it('carries timers inside the message; burn-on-read starts at the first read and never outlives the expiry', async () => {
    const sent = await ann.engine.api.call('messages.send', { conversation: await idOf(ann.engine.api, '@ben'), text: 'self-destructing', timers: { expiresInSeconds: 3600, burnAfterReadSeconds: 30 } });
    const got = await arrives(ben, sent.id);
    assert.equal(got.burnAfterReadSeconds, 30);
    assert.equal(got.expiresAt, sent.expiresAt, 'the sender\'s expiry, from the encrypted payload');
    const readAt = Date.now();
    await ben.engine.api.call('messages.markRead', { conversation: await idOf(ben.engine.api, '@ann'), upTo: sent.id });
    const [after] = (await ben.engine.api.call('messages.list', { conversation: await idOf(ben.engine.api, '@ann'), limit: 1 })).messages;
    assert.equal(after!.id, sent.id);
    const burnsAt = Date.parse(after!.expiresAt!);
    assert.ok(burnsAt >= readAt + 30_000 && burnsAt < Date.parse(sent.expiresAt!), 'now burns 30 s after reading, before the expiry');
  });

  it('sends no receipts and shows none once receipts are switched off', async () => {
    await ben.engine.api.call('settings.set', { receipts: false });
    const quiet = await ann.engine.api.call('messages.send', { conversation: await idOf(ann.engine.api, '@ben'), text: 'no receipts please' });
    await arrives(ben, quiet.id);
    await ben.engine.api.call('messages.markRead', { conversation: await idOf(ben.engine.api, '@ann'), upTo: quiet.id });
    const probe = await ben.engine.api.call('messages.send', { conversation: await idOf(ben.engine.api, '@ann'), text: 'probe after the read' });
    await arrives(ann, probe.id); // anything ben queued before the probe has reached ann by now
    assert.equal(latest(ann, quiet.id)?.status ?? 'sent', 'sent', 'neither delivered nor read reported');
    await ann.engine.api.call('messages.markRead', { conversation: await idOf(ann.engine.api, '@ben'), upTo: probe.id });
    await ann.engine.api.call('sync.now', {});
    await ben.engine.api.call('sync.now', {});
    assert.equal(latest(ben, probe.id)?.status ?? (await ben.engine.api.call('messages.list', { conversation: await idOf(ben.engine.api, '@ann'), limit: 1 })).messages[0]!.status, 'sent', 'ann\'s receipts are not shown to ben');
    await ben.engine.api.call('settings.set', { receipts: true });
  });

  it('lists open channels to everyone, who can join them; private ones need an invitation', async () => {
    await ann.engine.api.call('channels.create', { name: 'lobby', open: true });
    await ann.engine.api.call('channels.create', { name: 'board' });
    const joined = await cat.engine.api.call('channels.join', { channel: 'lobby' });
    assert.deepEqual(joined.members, ['ann', 'cat']);
    await assert.rejects(cat.engine.api.call('channels.join', { channel: 'board' }), /no open channel named #board/);
    await assert.rejects(cat.engine.api.call('channels.create', { name: 'lobby' }), /already exists/);
    const hello = await cat.engine.api.call('messages.send', { conversation: await idOf(cat.engine.api, '#lobby'), text: 'hi from the lobby' });
    await arrives(ann, hello.id);
  });

  it('opens no conversation for control traffic, and a note to self is sent at once', async () => {
    const conversations = (await cat.engine.api.call('conversations.list', {})).conversations;
    assert.deepEqual(conversations.filter((c) => c.kind === 'direct').map((c) => c.id), [], 'sender keys and receipts are not conversations');
    const note = await ann.engine.api.call('messages.send', { conversation: await idOf(ann.engine.api, '@ann'), text: 'remember the milk' });
    assert.equal(note.status, 'sent');
    assert.equal(note.conversation, 'd:ann');
  });

  it('finds words inside links and file names', async () => {
    const sent = await ben.engine.api.call('messages.send', { conversation: await idOf(ben.engine.api, '#general'), text: 'spec at https://wiki.example.org/payments/roadmap and budget-q3.xlsx' });
    await arrives(ann, sent.id);
    for (const query of ['roadmap', 'payments', 'budget', 'xlsx']) {
      const found = await ann.engine.api.call('messages.search', { query });
      assert.deepEqual(found.messages.map((m) => m.id), [sent.id], query);
    }
  });

  it('talks in a group direct message that only its members receive', async () => {
    const sent = await ann.engine.api.call('messages.send', { conversation: await idOf(ann.engine.api, '@ben,cat'), text: 'just the three of us' });
    assert.match(sent.conversation, /^g:/);
    const onBen = await arrives(ben, sent.id);
    const onCat = await arrives(cat, sent.id);
    assert.equal(onBen.conversation, sent.conversation);
    assert.equal(onCat.conversation, sent.conversation);
    const reply = await cat.engine.api.call('messages.send', { conversation: await idOf(cat.engine.api, '@ann,ben'), text: 'agreed' });
    assert.equal(reply.conversation, sent.conversation, 'the same members name the same group');
    await arrives(ann, reply.id);
    const listed = (await ben.engine.api.call('conversations.list', {})).conversations.find((c) => c.id === sent.conversation);
    assert.deepEqual(listed?.members, ['ann', 'ben', 'cat']);
    assert.equal(listed?.kind, 'group');
    assert.equal(org.admin.received().some((m) => m.id === sent.id), false);
  });

  it('gives both sides the same safety number, and flags a verified contact whose key changes', async () => {
    const annSide = await ann.engine.api.call('contacts.safetyNumber', { username: 'ben' });
    const benSide = await ben.engine.api.call('contacts.safetyNumber', { username: 'ann' });
    assert.equal(annSide.digits, benSide.digits);
    assert.equal(annSide.digits.replace(/ /g, '').length, 60);
    await ann.engine.api.call('contacts.markVerified', { username: 'ben', verified: true });
    assert.equal((await ann.engine.api.call('contacts.safetyNumber', { username: 'ben' })).verified, true);

    // the relay now serves a device list for ben signed by a key that is not ben's
    const benAccount = (await ben.engine.api.call('account.whoami', {})).accountId;
    const impostor = signingKeyPair();
    const list = signDeviceList(impostor, { userId: 'ben', version: 99, devices: [ben.engine.deviceId], issuedAt: Date.now() });
    relay.rewriteReply = (path, body) => (path === `/v1/accounts/${benAccount}/devices`
      ? { ...(body as object), accountPublicKey: toBase64Url(impostor.publicKey), deviceList: { data: toBase64Url(list), signature: toBase64Url(sign(list, impostor.secretKey)) }, deviceListVersion: 99 }
      : body);
    assert.ok(relay.inject(ann.engine.deviceId, { t: 'event', kind: 'device_list', account: benAccount }));
    const warning = await ann.waitFor(() => ann.events.find((e) => e.name === 'contact.keyChanged'), 15_000, 'the key-change warning');
    assert.deepEqual(warning.payload, { username: 'ben', wasVerified: true });
    const now = await ann.engine.api.call('contacts.safetyNumber', { username: 'ben' });
    assert.equal(now.verified, false, 'no longer verified');
    assert.notEqual(now.digits, annSide.digits, 'the number changed with the key');

    // what ann writes to ben now is held, not encrypted to a key she never accepted; the change shows in place
    const toBen = await idOf(ann.engine.api, '@ben');
    const held = await ann.engine.api.call('messages.send', { conversation: toBen, text: 'meant for the real ben' });
    assert.equal(held.status, 'held');
    const page = await ann.engine.api.call('messages.list', { conversation: toBen, limit: 5 });
    assert.ok(page.messages.some((m) => m.notice === 'identity-changed' && m.sender === 'ben'), 'a notice in the conversation');
    assert.equal((await ann.engine.api.call('contacts.list', {})).contacts.find((c) => c.username === 'ben')?.identity, 'changed-while-verified');
    // the relay cannot make ann accept: another announcement changes nothing, and accepting alone is refused for a verified contact
    assert.ok(relay.inject(ann.engine.deviceId, { t: 'event', kind: 'device_list', account: benAccount }));
    await ann.engine.api.call('sync.now', {});
    await assert.rejects(ann.engine.api.call('contacts.acceptIdentity', { username: 'ben' }), (e: { code: string }) => e.code === 'FORBIDDEN');
    assert.equal((await ann.engine.api.call('messages.list', { conversation: toBen, limit: 5 })).messages.find((m) => m.id === held.id)?.status, 'held');
    assert.ok(!ben.received().some((m) => m.id === held.id));
    // verifying the new number again is the user's acceptance: the held message leaves the hold
    await ann.engine.api.call('contacts.markVerified', { username: 'ben', verified: true });
    assert.equal((await ann.engine.api.call('contacts.list', {})).contacts.find((c) => c.username === 'ben')?.identity, 'accepted');
    assert.notEqual((await ann.engine.api.call('messages.list', { conversation: toBen, limit: 5 })).messages.find((m) => m.id === held.id)?.status, 'held');
    relay.rewriteReply = (_path, body) => body;
  });

  it('holds messages to an unverified contact whose key changed until the user accepts the new one', async () => {
    const catAccount = (await cat.engine.api.call('account.whoami', {})).accountId;
    await ann.engine.api.call('messages.send', { conversation: await idOf(ann.engine.api, '@cat'), text: 'hello cat' });
    const impostor = signingKeyPair();
    const list = signDeviceList(impostor, { userId: 'cat', version: 99, devices: [cat.engine.deviceId], issuedAt: Date.now() });
    relay.rewriteReply = (path, body) => (path === `/v1/accounts/${catAccount}/devices`
      ? { ...(body as object), accountPublicKey: toBase64Url(impostor.publicKey), deviceList: { data: toBase64Url(list), signature: toBase64Url(sign(list, impostor.secretKey)) }, deviceListVersion: 99 }
      : body);
    try {
      assert.ok(relay.inject(ann.engine.deviceId, { t: 'event', kind: 'device_list', account: catAccount }));
      await ann.waitFor(() => ann.events.find((e) => e.name === 'contact.keyChanged' && (e.payload as { username: string }).username === 'cat'), 15_000, 'the key change');
      const toCat = await idOf(ann.engine.api, '@cat');
      const held = await ann.engine.api.call('messages.send', { conversation: toCat, text: 'after the change' });
      assert.equal(held.status, 'held');
      assert.equal((await ann.engine.api.call('contacts.list', {})).contacts.find((c) => c.username === 'cat')?.identity, 'changed');
      await ann.engine.api.call('contacts.acceptIdentity', { username: 'cat' });
      assert.equal((await ann.engine.api.call('contacts.list', {})).contacts.find((c) => c.username === 'cat')?.identity, 'accepted');
      assert.notEqual((await ann.engine.api.call('messages.list', { conversation: toCat, limit: 5 })).messages.find((m) => m.id === held.id)?.status, 'held');
    } finally {
      relay.rewriteReply = (_path, body) => body;
    }
  });

  it('a key the relay swaps without announcing it, served only when a send fetches the list: nothing is encrypted to it', async () => {
    const dan = await org.addUser('dan');
    const eve = await org.addUser('eve');
    await createChannel(eve, 'swap', ['dan']);
    const before = await eve.engine.api.call('messages.send', { conversation: await idOf(eve.engine.api, '@dan'), text: 'before the swap' });
    await arrives(dan, before.id);
    const danMe = await dan.engine.api.call('account.whoami', {});
    serveForgedIdentity(relay, danMe, 99);
    try {
      // a new connection fetches each list afresh, at its first send: no device_list event, no earlier fetch
      const fresh = await eve.reopen();
      const claims = () => relay.requests.filter((r) => r.path === `/v1/accounts/${danMe.accountId}/prekeys/claim`).length;
      const claimed = claims();
      // the channel first: its send is the one that fetches dan's list, and must give the new key no sender key
      const inChannel = await fresh.engine.api.call('messages.send', { conversation: await idOf(fresh.engine.api, '#swap'), text: 'the channel goes on' });
      assert.notEqual(inChannel.status, 'held', 'the channel is not held for one member');
      assert.equal((await fresh.engine.api.call('contacts.list', {})).contacts.find((c) => c.username === 'dan')?.identity, 'changed');
      assert.equal(claims(), claimed, 'no session (no sender key) started with the changed identity');
      await fresh.engine.close();
      // and a direct message, again from a new connection
      const again = await fresh.reopen();
      const direct = await again.engine.api.call('messages.send', { conversation: await idOf(again.engine.api, '@dan'), text: 'meant for the real dan' });
      assert.equal(direct.status, 'held', 'held, not encrypted to the key the relay made up');
      assert.equal(claims(), claimed, 'no session (no message) started with the changed identity');
      await again.engine.api.call('sync.now', {});
      assert.ok(!dan.received().some((m) => m.id === direct.id));
    } finally {
      relay.rewriteReply = (_path, body) => body;
    }
  });
});
