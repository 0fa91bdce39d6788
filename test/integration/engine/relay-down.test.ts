// Nothing a user typed is lost when the relay is down. Sends, edits, reactions, deletes and receipts made while it
// cannot be reached are committed locally first (encrypted into the outbox when this device can, held whole in
// the vault when encrypting needs the relay: a first message to someone needs their prekeys) and go out exactly
// once when it is back. Commands that need the relay's answer fail at once in the user's terms and change
// nothing. Real engines, a real relay stopped and restarted on the same port and data.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageViewT } from '../../../core/api/contract.ts';
import { createChannel, idOf, startOrg, type TestEngine, type TestOrg } from '../../support/engines.ts';
import { startTestServer, tempDir } from '../../support/server-client.ts';

describe('engine: the relay goes away and comes back', () => {
  const dataDir = tempDir();
  let org: TestOrg;
  let alice: TestEngine;
  let bob: TestEngine;
  let carol: TestEngine;
  let restarted: Awaited<ReturnType<typeof startTestServer>> | null = null;

  before(async () => {
    org = await startOrg({ sendWaitMs: 2_000 }, { dataDir });
    alice = await org.addUser('alice');
    bob = await org.addUser('bob');
    carol = await org.addUser('carol');
    await createChannel(alice, 'general', ['bob', 'carol']);
    const warm = await alice.engine.api.call('messages.send', { conversation: await idOf(alice.engine.api, '#general'), text: 'before the outage' });
    await bob.waitFor(() => bob.received().find((m) => m.id === warm.id));
  });
  after(async () => {
    await org.close();
    await restarted?.close();
  });

  const code = (expected: string) => (error: { code?: string; message?: string }) => error.code === expected;
  const countOf = (e: TestEngine, id: string) => e.received().filter((m) => m.id === id).length;

  it('queues every message operation while the relay is down, refuses what needs its answer, and delivers each once when it is back', async () => {
    const general = await idOf(alice.engine.api, '#general');
    const toBob = await idOf(alice.engine.api, '@bob');
    const toCarol = await idOf(alice.engine.api, '@carol'); // no session with carol yet: her prekeys are on the relay
    const port = org.server.port;
    await org.server.close();
    await alice.waitFor(() => alice.events.find((e) => e.name === 'connection.state' && (e.payload as { state: string }).state !== 'online'), 15_000, 'the relay gone');

    const sent: MessageViewT[] = [];
    for (const [conversation, text] of [[general, 'channel while down'], [toBob, 'dm while down'], [toCarol, 'first dm to carol while down']] as const) {
      const view = await alice.engine.api.call('messages.send', { conversation, text });
      assert.equal(view.status, 'pending', `${text}: answered pending, not an error`);
      sent.push(view);
    }
    await alice.engine.api.call('messages.edit', { id: sent[0]!.id, text: 'channel while down (edited)' });
    await alice.engine.api.call('messages.react', { id: sent[1]!.id, emoji: '👍' });

    await assert.rejects(alice.engine.api.call('channels.create', { name: 'during-outage' }), code('OFFLINE'));
    await assert.rejects(alice.engine.api.call('org.invite', { admin: false }), code('OFFLINE'));
    await assert.rejects(alice.engine.api.call('sync.now', {}), code('OFFLINE'));

    // a device closed and reopened while down still holds everything
    alice = await alice.reopen();
    restarted = await startTestServer({ dataDir, port });

    const [channelMsg, dmBob, dmCarol] = sent as [MessageViewT, MessageViewT, MessageViewT];
    await bob.waitFor(() => bob.received().find((m) => m.id === channelMsg.id), 30_000, 'the channel message');
    await carol.waitFor(() => carol.received().find((m) => m.id === channelMsg.id), 30_000, 'the channel message on carol');
    await bob.waitFor(() => bob.received().find((m) => m.id === dmBob.id), 30_000, 'the dm to bob');
    await carol.waitFor(() => carol.received().find((m) => m.id === dmCarol.id), 30_000, 'the first dm to carol');
    const edited = await bob.waitFor(() => bob.events.find((e) => e.name === 'message.updated' && (e.payload as MessageViewT).text === 'channel while down (edited)'), 30_000, 'the edit');
    assert.ok(edited);
    await bob.waitFor(() => bob.events.find((e) => e.name === 'message.updated' && (e.payload as MessageViewT).id === dmBob.id
      && (e.payload as MessageViewT).reactions.some((r) => r.emoji === '👍')), 30_000, 'the reaction');
    await alice.waitFor(() => alice.events.find((e) => e.name === 'message.updated' && (e.payload as MessageViewT).id === dmCarol.id
      && (e.payload as MessageViewT).status !== 'pending'), 30_000, 'carol\'s message marked sent');

    await bob.engine.api.call('sync.now', {});
    await carol.engine.api.call('sync.now', {});
    for (const [e, m] of [[bob, channelMsg], [carol, channelMsg], [bob, dmBob], [carol, dmCarol]] as const) assert.equal(countOf(e, m.id), 1, `${m.text} exactly once on ${e.username}`);
    const names = (await alice.engine.api.call('conversations.list', {})).conversations.map((c) => c.name);
    assert.ok(!names.includes('during-outage'), 'a refused channel create changed nothing');
  });
});

describe('engine: the relay stops and comes back under a running sender', () => {
  const dataDir = tempDir();
  let org: TestOrg;
  let restarted: Awaited<ReturnType<typeof startTestServer>> | null = null;
  after(async () => {
    await org.close();
    await restarted?.close();
  });

  it('delivers every message of a sender that kept sending through the outage exactly once, in order', { timeout: 120_000 }, async () => {
    org = await startOrg({ sendWaitMs: 500 }, { dataDir });
    const alice = await org.addUser('alice');
    const bob = await org.addUser('bob');
    await createChannel(alice, 'general', ['bob']);
    const general = await idOf(alice.engine.api, '#general');
    const toBob = await idOf(alice.engine.api, '@bob');
    const port = org.server.port;
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      if (i === 10) await org.server.close(); // the relay stops mid-traffic
      if (i === 20) restarted = await startTestServer({ dataDir, port });
      ids.push((await alice.engine.api.call('messages.send', { conversation: i % 2 ? general : toBob, text: `m${i}` })).id);
    }
    await bob.waitFor(() => ids.every((id) => bob.received().some((m) => m.id === id)), 60_000, 'all 30 messages');
    await bob.engine.api.call('sync.now', {});
    for (const id of ids) assert.equal(bob.received().filter((m) => m.id === id).length, 1, 'exactly once');
    for (const conversation of [general, await idOf(bob.engine.api, '@alice')]) {
      const texts = bob.received().filter((m) => m.conversation === conversation).map((m) => Number(m.text.slice(1)));
      assert.deepEqual(texts, [...texts].sort((a, b) => a - b), 'in the order they were sent');
    }
  });
});
