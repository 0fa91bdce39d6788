// Disappearing messages across two people with two devices each, through a relay that can be made to lie: expiry
// and burn-on-read on every device (the sender's other device included), a device offline past the deadline, a
// clock moved back and forward on one device, a sender whose clock runs ahead, conversation timers announced in
// place, and the org policy clamping on send and on receive.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MessageViewT } from '../../../core/api/contract.ts';
import { Engine, type EngineOptions } from '../../../core/engine/engine.ts';
import { idOf, PASSPHRASE, startOrg, watch, type TestEngine, type TestOrg } from '../../support/engines.ts';
import { startHostileRelay, type HostileRelay } from '../../support/hostile-relay.ts';

const removed = (e: TestEngine, id: string, timeoutMs = 15_000) =>
  e.waitFor(() => e.events.find((x) => x.name === 'message.removed' && (x.payload as { id: string }).id === id)?.payload as { reason: string } | undefined, timeoutMs, `${id} removed on ${e.username}`);
const arrived = (e: TestEngine, id: string) => e.waitFor(() => e.received().find((m) => m.id === id), 15_000, `${id} on ${e.username}`);
const sawEver = (e: TestEngine, id: string) => e.events.some((x) => (x.name === 'message.received' || x.name === 'message.updated') && (x.payload as MessageViewT).id === id);
const listed = async (e: TestEngine, target: string) => (await e.engine.api.call('messages.list', { conversation: await idOf(e.engine.api, target), limit: 200 })).messages;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('disappearing messages', () => {
  let org: TestOrg;
  let relay: HostileRelay;
  let admin: TestEngine;
  let admin2: TestEngine;
  let bob: TestEngine;
  let bob2: TestEngine;
  /** bob2's wall clock is this far off (it is reopened with a clock that reads it) */
  let skewMs = 0;

  const reopenBob2 = async (options: Partial<EngineOptions> = {}) => {
    await bob2.engine.close();
    bob2 = watch(await Engine.open({ profileDir: bob2.profileDir, passphrase: PASSPHRASE, ...options }), bob2.profileDir, options, org.engines);
    await bob2.engine.api.call('sync.now', {});
  };

  before(async () => {
    org = await startOrg({}, {}, async (url) => (relay = await startHostileRelay(url)));
    admin = org.admin;
    bob = await org.addUser('bob');
    admin2 = await org.linkDevice(admin);
    bob2 = await org.linkDevice(bob);
    // both people know each other's devices before the timed traffic starts
    const hello = await admin.engine.api.call('messages.send', { conversation: await idOf(admin.engine.api, '@bob'), text: 'hello' });
    for (const e of [bob, bob2, admin2]) await arrived(e, hello.id);
    await reopenBob2({ now: () => Date.now() + skewMs });
  });
  after(() => org.close());

  it('expires on every device of both people at its deadline, and is gone from history and search', async () => {
    const sent = await admin.engine.api.call('messages.send', { conversation: await idOf(admin.engine.api, '@bob'), text: 'expiring zebra', timers: { expiresInSeconds: 5 } });
    assert.ok(sent.expiresAt);
    for (const e of [bob, bob2, admin2]) {
      const got = await arrived(e, sent.id);
      assert.ok(Date.parse(got.expiresAt!) <= Date.parse(sent.expiresAt!) + 1000, `${e.username}: no later than the sender's deadline`);
    }
    for (const e of [admin, admin2, bob, bob2]) assert.equal((await removed(e, sent.id)).reason, 'expired');
    for (const e of [admin, bob2]) {
      assert.ok(!(await listed(e, e.username === 'bob' ? '@admin' : '@bob')).some((m) => m.id === sent.id));
      assert.deepEqual((await e.engine.api.call('messages.search', { query: 'zebra' })).messages, []);
    }
  });

  it('burns from the first display on a recipient\'s device, on every device, and not before it', async () => {
    const sent = await admin.engine.api.call('messages.send', { conversation: await idOf(admin.engine.api, '@bob'), text: 'burn after reading', timers: { burnAfterReadSeconds: 5 } });
    for (const e of [bob, bob2, admin2]) assert.equal((await arrived(e, sent.id)).burnAfterReadSeconds, 5);
    await sleep(5_500);
    assert.ok((await listed(bob, '@admin')).some((m) => m.id === sent.id), 'not displayed yet: still there after its burn time');
    await bob.engine.api.call('messages.markRead', { conversation: await idOf(bob.engine.api, '@admin'), upTo: sent.id });
    const displayedAt = Date.now();
    for (const e of [bob, bob2, admin, admin2]) assert.equal((await removed(e, sent.id)).reason, 'burned', e.username);
    assert.ok(Date.now() - displayedAt >= 3_000, 'counted from the display');
  });

  it('never shows a device that was offline past the deadline what expired meanwhile, but delivers the rest', async () => {
    await bob2.engine.close();
    const conversation = await idOf(admin.engine.api, '@bob');
    const timed = await admin.engine.api.call('messages.send', { conversation, text: 'gone before bob2 is back', timers: { expiresInSeconds: 5 } });
    const control = await admin.engine.api.call('messages.send', { conversation, text: 'still here when bob2 is back' });
    await removed(admin, timed.id);
    await sleep(500);
    await reopenBob2({ now: () => Date.now() + skewMs });
    await arrived(bob2, control.id);
    assert.ok(!sawEver(bob2, timed.id), 'the relay dropped it at its deadline');
    assert.ok(!(await listed(bob2, '@admin')).some((m) => m.id === timed.id));
  });

  it('drops at receipt a message a relay delivers after its deadline', async () => {
    // the relay holds bob2's copy back until after the deadline, then hands it over
    const held: Parameters<HostileRelay['rewrite']>[0][] = [];
    relay.rewrite = (frame, device) => {
      if (device === bob2.engine.deviceId && frame.t === 'deliver' && frame.from !== null) {
        held.push(frame);
        return [];
      }
      return [frame];
    };
    const sent = await admin.engine.api.call('messages.send', { conversation: await idOf(admin.engine.api, '@bob'), text: 'late', timers: { expiresInSeconds: 5 } });
    await removed(admin, sent.id);
    relay.rewrite = (frame) => [frame];
    assert.ok(held.length > 0, 'the relay held something back');
    for (const frame of held) relay.inject(bob2.engine.deviceId, frame);
    const control = await admin.engine.api.call('messages.send', { conversation: await idOf(admin.engine.api, '@bob'), text: 'after the late one' });
    await arrived(bob2, control.id);
    assert.ok(!sawEver(bob2, sent.id), 'never shown, not even briefly');
  });

  it('lets no clock moved back or forward lengthen a life on one device, nor a sender\'s clock running ahead', async () => {
    const conversation = await idOf(admin.engine.api, '@bob');
    skewMs = -3_600_000; // bob2's clock turned back an hour after it had heard from the relay
    const back = await admin.engine.api.call('messages.send', { conversation, text: 'clock turned back', timers: { expiresInSeconds: 6 } });
    await arrived(bob2, back.id);
    assert.equal((await removed(bob2, back.id, 12_000)).reason, 'expired', 'gone at the real deadline, not an hour later');

    skewMs = 3_600_000; // and then an hour forward: lives only get shorter (here: already over)
    const forward = await admin.engine.api.call('messages.send', { conversation, text: 'clock turned forward', timers: { expiresInSeconds: 6 } });
    const control = await admin.engine.api.call('messages.send', { conversation, text: 'control' });
    await arrived(bob2, control.id);
    assert.ok(!(await listed(bob2, '@admin')).some((m) => m.id === forward.id));

    // bob2 now sends with its clock an hour ahead: its stated deadline is an hour late, the relay's receipt is not
    const ahead = await bob2.engine.api.call('messages.send', { conversation: await idOf(bob2.engine.api, '@admin'), text: 'from a clock ahead', timers: { expiresInSeconds: 30 } });
    const got = await arrived(admin, ahead.id);
    assert.ok(Date.parse(got.expiresAt!) <= Date.now() + 31_000, `counted from the relay's receipt: ${got.expiresAt}`);
    skewMs = 0;
  });

  it('sets a conversation\'s default timer for everyone, announced in place, with a per-message override', async () => {
    const conversation = await idOf(bob.engine.api, '@admin');
    assert.deepEqual(await bob.engine.api.call('conversations.setTimer', { conversation, expireSeconds: 86_400 }), { expireSeconds: 86_400, burnSeconds: null });
    for (const e of [admin, admin2, bob2]) {
      const notice = await e.waitFor(() => e.received().find((m) => m.notice === 'timer-changed'), 15_000, 'the announcement');
      assert.equal(notice.text, 'bob set messages to disappear after 1 day');
    }
    assert.deepEqual((await admin.engine.api.call('conversations.resolve', { target: '@bob' })).timer, { expireSeconds: 86_400 });
    const updated = (e: TestEngine, timer: object) => e.waitFor(() => e.events.find((x) => x.name === 'conversation.updated'
      && JSON.stringify((x.payload as { timer?: object }).timer) === JSON.stringify(timer)), 15_000, `the conversation's timer ${JSON.stringify(timer)}`);
    await updated(admin2, { expireSeconds: 86_400 });
    const byDefault = await admin.engine.api.call('messages.send', { conversation: await idOf(admin.engine.api, '@bob'), text: 'a day' });
    assert.ok(Math.abs(Date.parse(byDefault.expiresAt!) - Date.now() - 86_400_000) < 60_000);
    const own = await admin.engine.api.call('messages.send', { conversation: await idOf(admin.engine.api, '@bob'), text: 'an hour', timers: { expiresInSeconds: 3600 } });
    assert.ok(Date.parse(own.expiresAt!) < Date.now() + 3_601_000);
    await bob.engine.api.call('conversations.setTimer', { conversation, expireSeconds: null });
    await admin.waitFor(() => admin.received().find((m) => m.text === 'bob turned disappearing messages off'), 15_000, 'off');
    await updated(admin, {});
    const after = await admin.engine.api.call('messages.send', { conversation: await idOf(admin.engine.api, '@bob'), text: 'no timer now' });
    assert.equal(after.expiresAt, undefined);
  });

  it('clamps to the org policy on send, and on receipt from a device that did not hear of it', async () => {
    // bob's device misses the announcement of the new policy (the relay drops it), so it sends by the old one
    // bob2 is offline while the policy is published: it fetches it on reconnecting, before it takes in what waited
    relay.rewrite = (frame, device) => (device === bob.engine.deviceId && frame.t === 'event' && frame.kind === 'policy' ? [] : [frame]);
    await bob2.engine.close();
    await admin.engine.api.call('policy.set', { maxExpireSeconds: 3600, maxBurnSeconds: 10 });
    await admin2.waitFor(() => admin2.events.find((x) => x.name === 'policy.changed'), 10_000, 'the policy');

    const sent = await admin.engine.api.call('messages.send', { conversation: await idOf(admin.engine.api, '@bob'), text: 'asks for a day', timers: { expiresInSeconds: 86_400, burnAfterReadSeconds: 60 } });
    assert.equal(sent.clampedByPolicy, true);
    assert.ok(Date.parse(sent.expiresAt!) <= Date.now() + 3_600_000);
    assert.equal(sent.burnAfterReadSeconds, 10);
    const untimed = await admin.engine.api.call('messages.send', { conversation: await idOf(admin.engine.api, '@bob'), text: 'asks for nothing' });
    assert.ok(untimed.expiresAt && Date.parse(untimed.expiresAt) <= Date.now() + 3_600_000, 'a message without a timer gets the maximum');

    // a minute over the maximum: within the relay's clock allowance, so only the receivers can shorten it
    const stale = await bob.engine.api.call('messages.send', { conversation: await idOf(bob.engine.api, '@admin'), text: 'sent by the old policy', timers: { expiresInSeconds: 3660, burnAfterReadSeconds: 60 } });
    assert.equal(stale.burnAfterReadSeconds, 60, 'bob\'s device did not know');
    assert.equal(stale.clampedByPolicy, undefined);
    await reopenBob2();
    for (const e of [admin, admin2, bob2]) {
      const got = await arrived(e, stale.id);
      assert.equal(got.burnAfterReadSeconds, 10, e.username);
      assert.equal(got.clampedByPolicy, true);
      assert.ok(got.expiresAt && Date.parse(got.expiresAt) <= Date.now() + 3_600_000, 'shortened to the maximum');
    }
    // and a sender ignoring the policy by more than the allowance is refused by the relay
    const refused = await bob.engine.api.call('messages.send', { conversation: await idOf(bob.engine.api, '@admin'), text: 'a day', timers: { expiresInSeconds: 86_400 } });
    assert.equal(refused.status, 'failed');
    const notices = (await listed(admin, '@bob')).filter((m) => m.notice === 'policy-clamped');
    assert.equal(notices.length, 1, 'said once per conversation and policy version');
    assert.match(notices[0]!.text, /at most 1 hour/);
    relay.rewrite = (frame) => [frame];

    await assert.rejects(bob2.engine.api.call('conversations.setTimer', { conversation: await idOf(bob2.engine.api, '@admin'), expireSeconds: 86_400 }), /at most 1 hour/);
    await admin.engine.api.call('policy.set', { maxExpireSeconds: null, requireTimer: true });
    await bob2.waitFor(() => bob2.events.find((x) => x.name === 'policy.changed' && (x.payload as { version: number }).version === 2), 10_000, 'version 2');
    await assert.rejects(bob2.engine.api.call('messages.send', { conversation: await idOf(bob2.engine.api, '@admin'), text: 'no timer' }), /requires every message to disappear/);
  });
});
