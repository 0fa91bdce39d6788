// A user who was away: while Bob's engine is closed, Alice and Carol send him 500 messages (direct messages and a
// channel). When Bob opens his profile again and syncs, he gets every one of them exactly once, in each sender's
// order, in his events and in his stored history, and his engine takes them in a few large batches.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createChannel, history, idOf, startOrg, type TestEngine, type TestOrg } from '../../support/engines.ts';

const PER_SENDER = 250;


/** Sends `count` messages, one after another: two of every three to the recipient directly, one to the channel. */
async function sendMany(from: TestEngine, to: string, channel: string, count: number): Promise<{ id: string; text: string; target: string; conversation: string; status: string }[]> {
  const sent = [];
  for (let i = 0; i < count; i++) {
    const target = i % 3 === 2 ? `#${channel}` : `@${to}`;
    const text = `${from.username} ${i}`;
    const view = await from.engine.api.call('messages.send', { conversation: await idOf(from.engine.api, target), text });
    sent.push({ id: view.id, text, target, conversation: view.conversation, status: view.status });
  }
  return sent;
}

describe('engine: offline catch-up', () => {
  let org: TestOrg;
  let alice: TestEngine;
  let carol: TestEngine;
  let bob: TestEngine;
  const reopened: TestEngine[] = [];

  before(async () => {
    org = await startOrg();
    alice = await org.addUser('alice');
    carol = await org.addUser('carol');
    bob = await org.addUser('bob');
    await createChannel(alice, 'ops', ['carol', 'bob']);
  });
  after(async () => {
    await Promise.all(reopened.map((e) => e.engine.close().catch(() => {})));
    await org.close();
  });

  it('delivers 500 messages sent while the recipient was closed, exactly once, in order, in batches', { timeout: 60_000 }, async (t) => {
    // Bob knows he is in #ops before he goes away (the membership notice reached him).
    await bob.waitFor(() => bob.events.some((e) => e.name === 'conversation.updated'), 15_000, 'the #ops membership');
    await bob.engine.close();

    const [fromAlice, fromCarol] = await Promise.all([sendMany(alice, 'bob', 'ops', PER_SENDER), sendMany(carol, 'bob', 'ops', PER_SENDER)]);
    const sent = [...fromAlice, ...fromCarol];
    assert.equal(new Set(sent.map((s) => s.id)).size, 2 * PER_SENDER);
    assert.deepEqual(sent.filter((s) => s.status !== 'sent'), [], 'the relay took every message while Bob was away');

    bob = await bob.reopen();
    reopened.push(bob);
    // All message.received events a batch causes are emitted in one synchronous run, after that batch's single
    // vault transaction; a microtask queued at the first event closes the group. Groups are therefore batches.
    let batches = 0;
    let open = false;
    bob.engine.api.on('message.received', () => {
      if (open) return;
      open = true;
      batches++;
      queueMicrotask(() => {
        open = false;
      });
    });
    await bob.engine.api.call('sync.now', {});

    // Events: each message once, nothing else, each sender's messages in the order they were sent.
    const received = bob.received();
    assert.equal(received.length, 2 * PER_SENDER);
    assert.deepEqual(received.map((m) => m.id).sort(), sent.map((s) => s.id).sort());
    for (const sender of [fromAlice, fromCarol]) {
      const name = sender[0]!.text.split(' ')[0]!;
      assert.deepEqual(received.filter((m) => m.sender === name).map((m) => m.id), sender.map((s) => s.id), `${name}'s messages in order`);
    }
    for (const m of received) {
      const s = sent.find((x) => x.id === m.id)!;
      assert.equal(m.text, s.text);
      assert.equal(m.conversation, s.target === '#ops' ? s.conversation : `d:${m.sender}`);
      assert.equal(m.outgoing, false);
    }
    assert.deepEqual(bob.events.filter((e) => e.name === 'message.undecryptable'), []);

    // Stored history: the same messages, once each, per conversation, each sender in order.
    const stored = { '@alice': await history(bob, '@alice'), '@carol': await history(bob, '@carol'), '#ops': await history(bob, '#ops') };
    for (const [target, messages] of Object.entries(stored)) {
      const expected = sent.filter((s) => (target === '#ops' ? s.target === '#ops' : s.target === '@bob' && s.text.startsWith(`${target.slice(1)} `)));
      assert.equal(messages.length, expected.length, `${target}: ${messages.length} stored, ${expected.length} sent`);
      for (const from of ['alice', 'carol']) {
        assert.deepEqual(messages.filter((m) => m.sender === from).map((m) => m.id), expected.filter((s) => s.text.startsWith(`${from} `)).map((s) => s.id), `${target}: ${from}'s messages in order`);
      }
    }

    // Batches: a per-message transaction would make 500; the socket hands over at most 500 per batch.
    t.diagnostic(`500 messages arrived in ${batches} batches`);
    assert.ok(batches >= 1 && batches <= 50, `${batches} batches for 500 messages`);

    // Everything was acknowledged: opening again delivers nothing a second time.
    bob = await bob.reopen();
    reopened.push(bob);
    const again = await bob.engine.api.call('sync.now', {});
    assert.equal(again.received, 0);
    assert.deepEqual(bob.received(), []);
    assert.equal((await history(bob, '#ops')).length, stored['#ops'].length);
  });

  it('sync.now counts what it sent even while more is queued as it runs (never a negative count)', async () => {
    const to = await idOf(alice.engine.api, '@bob');
    const sync = alice.engine.api.call('sync.now', {});
    const sends = Array.from({ length: 30 }, (_, i) => alice.engine.api.call('messages.send', { conversation: to, text: `during sync ${i}` }));
    const result = await sync;
    await Promise.all(sends);
    assert.ok(Number.isInteger(result.sent) && result.sent >= 0 && result.sent <= 30, `sent ${result.sent}`);
    const quiet = await alice.engine.api.call('sync.now', {});
    assert.equal(quiet.sent, 0, 'nothing queued: nothing sent');
  });
});
