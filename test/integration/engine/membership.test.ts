// Channel membership is enforced by keys, not only by the relay: a test relay that hands a removed member (or a
// newcomer) envelopes it should never have had shows that the engine still cannot read them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createChannel, startOrg, type TestEngine, type TestOrg, idOf } from '../../support/engines.ts';
import { startHostileRelay, type HostileRelay } from '../../support/hostile-relay.ts';

describe('engine: channel membership and keys', () => {
  let org: TestOrg;
  let relay: HostileRelay;
  let alice: TestEngine;
  let bob: TestEngine;
  let carol: TestEngine;
  let dan: TestEngine;

  before(async () => {
    org = await startOrg({}, {}, async (url) => (relay = await startHostileRelay(url)));
    alice = await org.addUser('alice');
    bob = await org.addUser('bob');
    carol = await org.addUser('carol');
    dan = await org.addUser('dan');
    await createChannel(alice, 'secret', ['bob', 'carol']);
  });
  after(() => org.close());

  const send = async (from: TestEngine, text: string) => from.engine.api.call('messages.send', { conversation: await idOf(from.engine.api, '#secret'), text });
  const arrives = (on: TestEngine, id: string) => on.waitFor(() => on.received().find((m) => m.id === id), 15_000, `message ${id}`);
  /** The channel envelope bob was given for a message, as the relay pushed it. */
  const envelopeFor = async (id: string) => {
    await arrives(bob, id);
    const frames = relay.delivered.get(bob.engine.deviceId) ?? [];
    const found = frames.filter((f) => f.channel !== null).at(-1);
    assert.ok(found, 'bob was pushed a channel envelope');
    return found;
  };
  let fakeSeq = 1_000_000;
  const replayTo = (to: TestEngine, frame: Awaited<ReturnType<typeof envelopeFor>>) => {
    assert.ok(relay.inject(to.engine.deviceId, { ...frame, seq: fakeSeq++ }), 'the target device is connected');
  };

  it('a removed member cannot read what is sent after the removal, even when the relay hands it over', async () => {
    const before = await send(alice, 'everyone can read this');
    await arrives(carol, before.id);
    // every message that arrives updates its conversation too: the removal's update is the one after that one's
    await carol.waitFor(() => carol.events.some((e) => e.name === 'conversation.updated' && (e.payload as { lastMessage?: { id: string } }).lastMessage?.id === before.id), 15_000, 'the view after the message');
    const heard = carol.events.length;
    await alice.engine.api.call('channels.remove', { conversation: await idOf(alice.engine.api, '#secret'), username: 'carol' });
    await carol.waitFor(() => carol.events.slice(heard).some((e) => e.name === 'conversation.updated'), 15_000, 'the removal notice');
    const afterRemoval = await send(alice, 'carol must not read this');
    const envelope = await envelopeFor(afterRemoval.id);
    replayTo(carol, envelope);
    // carol asks alice for the new key; alice refuses a non-member; both sides settle
    await carol.waitFor(() => carol.events.some((e) => e.name === 'message.undecryptable'), 15_000, 'an undecryptable report');
    await carol.engine.api.call('sync.now', {});
    await alice.engine.api.call('sync.now', {});
    await carol.engine.api.call('sync.now', {});
    assert.equal(carol.received().some((m) => m.id === afterRemoval.id), false, 'carol never shows the message');
    const history = await carol.engine.api.call('messages.search', { query: 'carol must not' });
    assert.equal(history.messages.length, 0);
  });

  it('a new member cannot read what was sent before it joined, even when the relay hands it over', async () => {
    const early = await send(alice, 'before dan joined');
    const earlyEnvelope = await envelopeFor(early.id);
    await alice.engine.api.call('channels.add', { conversation: await idOf(alice.engine.api, '#secret'), username: 'dan' });
    const welcome = await send(alice, 'welcome dan');
    await arrives(dan, welcome.id);
    replayTo(dan, earlyEnvelope);
    await dan.engine.api.call('sync.now', {});
    await alice.engine.api.call('sync.now', {});
    await dan.engine.api.call('sync.now', {});
    assert.equal(dan.received().some((m) => m.id === early.id), false, 'dan never shows the earlier message');
    // and dan takes part normally
    const fromDan = await send(dan, 'hello all');
    await arrives(bob, fromDan.id);
    await arrives(alice, fromDan.id);
  });

  it('a removed member can no longer send to the channel', async () => {
    // by name, and by the conversation id carol's device still has from before
    await assert.rejects(idOf(carol.engine.api, '#secret'), /not in a channel named #secret/);
    const conversation = await idOf(alice.engine.api, '#secret');
    await assert.rejects(carol.engine.api.call('messages.send', { conversation, text: 'let me in' }), /not in this channel any more/);
  });
});
