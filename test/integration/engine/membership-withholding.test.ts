// Issue 12, finding 2, what is left: the relay cannot forge a channel's signed membership log, but it can withhold
// entries from some members (a removal they never hear of, so they keep handing their sender key to the person
// removed) or show members different histories (a fork). Every channel message carries where its sender's log
// stood, inside the encryption: a member behind it reads the log up to it, and a relay that will not serve it, or
// serves another entry at that position, is caught, said so, and given no key to hand out.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageViewT } from '../../../core/api/contract.ts';
import { randomBytes } from '../../../core/crypto/sodium.ts';
import { createChannel, history, idOf, startOrg, type TestEngine, type TestOrg } from '../../support/engines.ts';
import { startHostileRelay, type HostileRelay } from '../../support/hostile-relay.ts';

type LogReply = { entries: { seq: number; entry: string }[] };
type Warning = { conversation: string; state: 'behind' | 'fork' | 'resolved'; by: string; seq: number; message: string };

describe('engine: a relay that withholds or forks a channel\'s membership log', () => {
  let org: TestOrg;
  let relay: HostileRelay;
  let alice: TestEngine; // owner
  let bob: TestEngine; // admin
  let carol: TestEngine; // the member the relay lies to
  let dan: TestEngine; // removed while the relay hides it from carol
  let erin: TestEngine; // removed while the relay keeps hiding it from carol
  let channelId: string;
  /** per device: log entries after this position are left out of its log reads, and no relay notice reaches it */
  const withheld = new Map<string, number>();
  /** per device: the entry served at a position instead of the real one */
  const forged = new Map<string, { seq: number; entry: string }>();
  let fakeSeq = 2_000_000;

  before(async () => {
    org = await startOrg({}, {}, async (url) => (relay = await startHostileRelay(url)));
    [alice, bob, carol, dan, erin] = await Promise.all(['alice', 'bob', 'carol', 'dan', 'erin'].map((name) => org.addUser(name)));
    await org.addUser('frank');
    await createChannel(alice, 'secret', ['bob', 'carol', 'dan', 'erin']);
    channelId = (await idOf(alice.engine.api, '#secret')).slice(2);
    await alice.engine.api.call('channels.setRole', { conversation: `c:${channelId}`, username: 'bob', role: 'admin' });
    relay.rewriteReply = (path, body, device) => {
      if (device === null || path !== `/v1/channels/${channelId}/log`) return body;
      const reply = body as LogReply;
      if (!Array.isArray(reply.entries)) return body; // a refusal passes as it is
      const forgery = forged.get(device);
      const entries = reply.entries.map((e) => (forgery && e.seq === forgery.seq ? forgery : e)).filter((e) => !forgery || e.seq <= forgery.seq);
      const upTo = withheld.get(device);
      return { entries: upTo === undefined ? entries : entries.filter((e) => e.seq <= upTo) };
    };
    relay.rewrite = (frame, device) => (frame.t === 'deliver' && frame.from === null && withheld.has(device) ? [] : [frame]);
  });
  after(() => org.close());

  const conversation = () => `c:${channelId}`;
  const logHead = () => org.server.store.channelLog(channelId, -1, 1000).at(-1)!.seq;
  const send = (from: TestEngine, text: string) => from.engine.api.call('messages.send', { conversation: conversation(), text });
  const arrives = (on: TestEngine, id: string) => on.waitFor(() => on.received().find((m) => m.id === id), 15_000, `message ${id}`);
  const membersSeenBy = async (e: TestEngine) => (await e.engine.api.call('conversations.list', {})).conversations.find((c) => c.id === conversation())?.members;
  const warnings = (e: TestEngine) => e.events.filter((x) => x.name === 'channel.membershipWarning').map((x) => x.payload as Warning);
  const noticesOf = async (e: TestEngine) => (await history(e, '#secret', { notices: true })).filter((m: MessageViewT) => m.notice === 'membership-warning');
  /** The channel envelope of a message, as the relay pushed it to bob, handed to a device it was not routed to. */
  const handOver = async (id: string, to: TestEngine) => {
    await arrives(bob, id);
    const frame = (relay.delivered.get(bob.engine.deviceId) ?? []).filter((f) => f.channel === channelId).at(-1);
    assert.ok(frame, 'bob was pushed the channel envelope');
    assert.ok(relay.inject(to.engine.deviceId, { ...frame, seq: fakeSeq++ }), `${to.username}'s device is connected`);
  };
  /** Every engine has committed what the relay holds for it. */
  const settle = async (...engines: TestEngine[]) => {
    for (const e of engines) await e.engine.api.call('sync.now', {});
  };

  it('a removal the relay hides from carol reaches her through alice\'s next message, and the removed member reads nothing after it', async () => {
    const early = await send(carol, 'dan may read this');
    await arrives(dan, early.id); // dan holds carol's sender key

    withheld.set(carol.engine.deviceId, logHead());
    await alice.engine.api.call('channels.remove', { conversation: conversation(), username: 'dan' });
    await settle(carol);
    assert.deepEqual(await membersSeenBy(carol), ['alice', 'bob', 'carol', 'dan', 'erin'], 'the relay hid the removal from carol');
    // carol, behind, is nothing alarming to alice: her head is older than alice's, and alice's next message carries hers
    const behind = await send(carol, 'carol has not heard yet');
    await arrives(alice, behind.id);
    assert.equal(warnings(alice).length, 0, 'a sender that is merely behind raises no warning');

    // the relay would serve the entry if asked; it only never tells carol to ask (no notice reaches her)
    withheld.set(carol.engine.deviceId, Number.MAX_SAFE_INTEGER);
    const next = await send(alice, 'dan is gone');
    await arrives(carol, next.id);
    assert.deepEqual(await membersSeenBy(carol), ['alice', 'bob', 'carol', 'erin'], 'alice\'s message made carol read the log');
    const removal = (await history(carol, '#secret', { notices: true })).filter((m) => m.notice === 'membership').at(-1);
    assert.deepEqual({ by: removal?.sender, ...removal?.membership }, { by: 'alice', change: 'removed', members: ['dan'] });
    assert.equal(warnings(carol).length, 0, 'a log that caught up is nothing to warn about');

    // carol's next message is under a key dan was never given, even when the relay hands him the envelope
    const later = await send(carol, 'dan must not read this');
    await handOver(later.id, dan);
    await dan.waitFor(() => dan.events.some((e) => e.name === 'message.undecryptable'), 15_000, 'dan to be unable to read it');
    await settle(dan, carol, dan);
    assert.equal(dan.received().some((m) => m.id === later.id), false, 'dan never shows carol\'s message');
    withheld.delete(carol.engine.deviceId);
  });

  it('a relay that keeps hiding a removal: carol is warned, what she writes is held, and the removed member gets no key', async () => {
    withheld.set(carol.engine.deviceId, logHead());
    await alice.engine.api.call('channels.remove', { conversation: conversation(), username: 'erin' });
    const next = await send(alice, 'erin is gone');
    await arrives(carol, next.id);
    const warning = await carol.waitFor(() => warnings(carol).find((w) => w.state === 'behind'), 15_000, 'the warning');
    assert.equal(warning.by, 'alice');
    assert.equal(warning.seq, logHead());
    assert.match(warning.message, /withholding/);
    assert.equal((await noticesOf(carol)).length, 1, 'the warning is in the channel\'s history too');

    const framesToErin = () => (relay.delivered.get(erin.engine.deviceId) ?? []).filter((f) => f.from?.device === carol.engine.deviceId).length;
    const before = framesToErin();
    const held = await send(carol, 'erin must not read this');
    assert.equal(held.status, 'held', 'carol\'s message waits instead of going out under a stale membership');
    await assert.rejects(carol.engine.api.call('channels.setTopic', { conversation: conversation(), topic: 'new topic' }),
      (e: { code: string }) => e.code === 'HOSTILE_SERVER', 'no new channel key goes out either');
    await settle(carol, erin);
    assert.equal(framesToErin(), before, 'nothing from carol reached erin\'s device');

    // the relay relents: the next change reaches carol, her log agrees with alice's, and what she held goes out
    withheld.delete(carol.engine.deviceId);
    await alice.engine.api.call('channels.setRole', { conversation: conversation(), username: 'carol', role: 'admin' });
    await carol.waitFor(() => warnings(carol).find((w) => w.state === 'resolved'), 15_000, 'the all-clear');
    await arrives(bob, held.id);
    assert.deepEqual(await membersSeenBy(carol), ['alice', 'bob', 'carol']);
    await handOver(held.id, erin);
    await settle(erin, carol, erin);
    assert.equal(erin.received().some((m) => m.id === held.id), false, 'erin never shows what carol held');
  });

  it('a relay that shows carol another change at the same position raises the alarm, and nothing is accepted until the histories agree', async () => {
    const agreed = logHead();
    // neither bob nor carol hears of alice's next change; what bob signs in that belief the relay keeps for carol
    withheld.set(bob.engine.deviceId, agreed);
    withheld.set(carol.engine.deviceId, agreed);
    await alice.engine.api.call('channels.setRole', { conversation: conversation(), username: 'carol', role: 'member' });
    await assert.rejects(bob.engine.api.call('channels.add', { conversation: conversation(), username: 'frank' }), (e: { code: string }) => e.code === 'FORBIDDEN');
    const bobs = relay.requests.map((r) => (r.body as { log?: { seq: number; entry: string } }).log).filter((l) => l?.seq === agreed + 1).at(-1);
    assert.ok(bobs, 'the relay kept bob\'s signed change');
    forged.set(carol.engine.deviceId, bobs);
    withheld.delete(carol.engine.deviceId);
    const accountOf = (username: string) => org.server.store.getAccountByUsername(username)!.accountId;
    await org.server.hub.postNotice({ kind: 'membership', channel: channelId, change: 'joined', accounts: [accountOf('frank')], by: accountOf('bob'), role: 'member' },
      channelId, [carol.engine.deviceId], randomBytes(16));
    await carol.waitFor(() => carol.received().some((m) => m.membership?.members.includes('frank')), 15_000, 'carol to be shown bob\'s change');

    const next = await send(alice, 'which history are you on?');
    await arrives(carol, next.id);
    const alarm = await carol.waitFor(() => warnings(carol).find((w) => w.state === 'fork'), 15_000, 'the alarm');
    assert.deepEqual({ by: alarm.by, seq: alarm.seq }, { by: 'alice', seq: agreed + 1 });
    assert.match(alarm.message, /equivocating/);
    const held = await send(carol, 'held while the histories differ');
    assert.equal(held.status, 'held');
    await assert.rejects(carol.engine.api.call('channels.remove', { conversation: conversation(), username: 'bob' }),
      (e: { code: string }) => e.code === 'HOSTILE_SERVER', 'no change is made on a forked log');

    // the relay shows carol the history alice is on: read again from its first entry, it agrees, and it is taken
    forged.delete(carol.engine.deviceId);
    withheld.delete(bob.engine.deviceId);
    await alice.engine.api.call('channels.setRole', { conversation: conversation(), username: 'bob', role: 'member' });
    await carol.waitFor(() => warnings(carol).find((w) => w.state === 'resolved' && w.seq === agreed + 1), 15_000, 'the all-clear');
    assert.deepEqual(await membersSeenBy(carol), ['alice', 'bob', 'carol'], 'frank, shown to carol alone, is not a member');
    await arrives(alice, held.id);
  });
});
