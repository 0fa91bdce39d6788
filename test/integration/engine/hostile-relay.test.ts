// A relay that duplicates, reorders, drops, replays, tampers with and forges envelopes. The engine shows every
// genuine message exactly once, rejects what was forged or damaged and says so, and keeps working afterwards.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerFrame } from '../../../core/relay/frames.ts';
import { createChannel, startOrg, type TestEngine, type TestOrg, idOf } from '../../support/engines.ts';
import { startHostileRelay, type HostileRelay } from '../../support/hostile-relay.ts';

type Deliver = Extract<ServerFrame, { t: 'deliver' }>;
const isMessage = (f: ServerFrame): f is Deliver => f.t === 'deliver' && f.from !== null;

describe('engine: a hostile relay', () => {
  let org: TestOrg;
  let relay: HostileRelay;
  let alice: TestEngine;
  let bob: TestEngine;
  let fakeSeq = 2_000_000;

  before(async () => {
    org = await startOrg({}, {}, async (url) => (relay = await startHostileRelay(url)));
    alice = await org.addUser('alice');
    bob = await org.addUser('bob');
    await createChannel(alice, 'ops', ['bob']);
    // warm up both paths so later tests exercise established sessions and sender keys
    await send('#ops', 'warm-up channel');
    await send('@bob', 'warm-up dm');
    await bob.waitFor(() => bob.received().length >= 2, 15_000, 'warm-up');
  });
  beforeEach(() => {
    relay.rewrite = (frame) => [frame];
  });
  after(() => org.close());

  async function send(target: string, text: string) {
    return alice.engine.api.call('messages.send', { conversation: await idOf(alice.engine.api, target), text });
  }
  const toBob = (frame: ServerFrame, device: string) => device === bob.engine.deviceId && isMessage(frame);
  const countOf = (id: string) => bob.received().filter((m) => m.id === id).length;
  const undecryptable = () => bob.events.filter((e) => e.name === 'message.undecryptable').length;

  async function sendBoth(label: string, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push((await send(i % 2 ? '#ops' : '@bob', `${label} ${i}`)).id);
    return ids;
  }
  const allArrive = (ids: string[]) => bob.waitFor(() => ids.every((id) => countOf(id) >= 1), 15_000, 'all messages');

  it('shows a duplicated envelope once', async () => {
    relay.rewrite = (frame, device) => (toBob(frame, device) ? [frame, frame] : [frame]);
    const ids = await sendBoth('dup', 6);
    await allArrive(ids);
    await bob.engine.api.call('sync.now', {});
    for (const id of ids) assert.equal(countOf(id), 1, 'exactly once');
  });

  it('puts reordered envelopes back together, each once', async () => {
    const held: Deliver[] = [];
    relay.rewrite = (frame, device) => {
      if (!toBob(frame, device)) return [frame];
      held.push(frame as Deliver);
      return held.length < 6 ? [] : held.splice(0).reverse();
    };
    const ids = await sendBoth('reorder', 6);
    await allArrive(ids);
    for (const id of ids) assert.equal(countOf(id), 1);
  });

  it('ignores envelopes replayed long after they were acknowledged', async () => {
    const old = (relay.delivered.get(bob.engine.deviceId) ?? []).filter(isMessage).slice(0, 8);
    assert.ok(old.length >= 4);
    const before = bob.received().length;
    for (const frame of old) assert.ok(relay.inject(bob.engine.deviceId, { ...frame, seq: fakeSeq++ }));
    const probe = await send('@bob', 'after the replay');
    await allArrive([probe.id]);
    assert.equal(bob.received().length, before + 1, 'only the new message was shown');
  });

  it('recovers an envelope the relay dropped once it is delivered again (reconnect), without losing the ones after it', async () => {
    let dropped: string | null = null;
    relay.rewrite = (frame, device) => {
      if (toBob(frame, device) && dropped === null) {
        dropped = Buffer.from((frame as Deliver).msgId).toString('hex');
        return [];
      }
      return [frame];
    };
    const ids = await sendBoth('drop', 4);
    await bob.waitFor(() => ids.slice(1).every((id) => countOf(id) === 1), 15_000, 'the messages after the gap');
    assert.equal(countOf(ids[0]!), 0, 'the dropped one has not arrived yet');
    relay.rewrite = (frame) => [frame];
    bob = await bob.reopen(); // the relay still holds the unacknowledged envelope and delivers it again
    await bob.engine.api.call('sync.now', {});
    const history = await bob.engine.api.call('messages.list', { conversation: await idOf(bob.engine.api, '@alice'), limit: 50 });
    const channel = await bob.engine.api.call('messages.list', { conversation: await idOf(bob.engine.api, '#ops'), limit: 50 });
    const stored = [...history.messages, ...channel.messages].map((m) => m.id);
    for (const id of ids) assert.equal(stored.filter((s) => s === id).length, 1, 'stored exactly once');
  });

  it('reports tampered envelopes as undecryptable and keeps working', async () => {
    let tampered = 0;
    relay.rewrite = (frame, device) => {
      if (!toBob(frame, device) || tampered >= 2) return [frame];
      tampered++;
      const body = new Uint8Array((frame as Deliver).body);
      body[body.length - 10]! ^= 0x01; // inside the ciphertext or signature
      return [{ ...(frame as Deliver), body }];
    };
    const before = undecryptable();
    const ids = await sendBoth('tamper', 4);
    await bob.waitFor(() => ids.slice(2).every((id) => countOf(id) === 1), 15_000, 'the untouched messages');
    await bob.waitFor(() => undecryptable() >= before + 2, 15_000, 'two undecryptable reports');
    assert.equal(countOf(ids[0]!) + countOf(ids[1]!), 0, 'a damaged message is never shown');
  });

  it('rejects a forged signature inside a large backlog (signatures checked ahead on another thread)', async () => {
    await bob.engine.close();
    const ids: string[] = [];
    for (let i = 0; i < 80; i++) ids.push((await send('#ops', `backlog ${i}`)).id);
    const forged = new Set<number>();
    relay.rewrite = (frame, device) => {
      if (device !== bob.engine.deviceId || !isMessage(frame) || (frame as Deliver).channel === null) return [frame];
      const index = ids.indexOf(Buffer.from((frame as Deliver).msgId).toString('base64url'));
      if (index !== 70) return [frame]; // late in the batch: among the signatures checked ahead
      forged.add(index);
      const body = new Uint8Array((frame as Deliver).body);
      body[body.length - 5]! ^= 0x01; // the signature is the envelope's last field
      return [{ ...(frame as Deliver), body }];
    };
    bob = await bob.reopen();
    await bob.engine.api.call('sync.now', {});
    assert.equal(forged.size, 1);
    assert.equal(countOf(ids[70]!), 0, 'the forged message is not shown');
    for (const [i, id] of ids.entries()) if (i !== 70) assert.equal(countOf(id), 1, `message ${i} once`);
    assert.ok(bob.events.some((e) => e.name === 'message.undecryptable' && (e.payload as { reason: string }).reason === 'BAD_SIGNATURE'));
  });

  it('asks the sender for a sender key the relay withheld, then shows the held message', async () => {
    await createChannel(alice, 'ops2', ['bob']);
    let withholding = true;
    relay.rewrite = (frame, device) => {
      if (!toBob(frame, device)) return [frame];
      if ((frame as Deliver).channel !== null) withholding = false; // the channel message itself goes through
      return withholding ? [] : [frame]; // the pairwise sender-key distribution before it does not
    };
    const sent = await send('#ops2', 'after a withheld key');
    await bob.waitFor(() => bob.events.some((e) => e.name === 'message.undecryptable' && /waiting for the sender/.test((e.payload as { reason: string }).reason)), 15_000, 'the wait report');
    const got = await bob.waitFor(() => bob.received().find((m) => m.id === sent.id), 15_000, 'the held message');
    assert.equal(got.text, 'after a withheld key');
    assert.equal(countOf(sent.id), 1);
  });

  it('refuses an envelope whose relay-given sender disagrees with the envelope', async () => {
    const admin = await org.admin.engine.api.call('account.whoami', {});
    relay.rewrite = (frame, device) => (toBob(frame, device) ? [{ ...(frame as Deliver), from: { account: admin.accountId, device: org.admin.engine.deviceId } }] : [frame]);
    const before = undecryptable();
    const forged = await send('@bob', 'who sent this?');
    await bob.waitFor(() => undecryptable() > before, 15_000, 'an undecryptable report');
    assert.equal(countOf(forged.id), 0);
    relay.rewrite = (frame) => [frame];
    const after = await send('@bob', 'still working');
    await allArrive([after.id]);
  });
});
