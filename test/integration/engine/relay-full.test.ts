// The relay runs out of storage (its --max-db-size cap), or Bob's device is over its queue quota, while Alice sends:
// her message stays pending in the outbox, not lost and not failed, and goes out by itself once the relay has room
// again; no new send or reconnect needed.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from '../../../core/crypto/sodium.ts';
import type { SendRequest } from '../../../server/store/types.ts';
import { startOrg, type TestOrg, idOf } from '../../support/engines.ts';

const FILLER_DEVICE = 'filler-device-that-never-connects';

describe('engine: relay out of storage', () => {
  let org: TestOrg;
  let quotaOrg: TestOrg;
  after(() => Promise.all([org?.close(), quotaOrg?.close()]));

  it('keeps a refused message pending and sends it by itself once the relay has room', { timeout: 60_000 }, async () => {
    org = await startOrg({ sendWaitMs: 300, outboxRetry: { firstMs: 200, maxMs: 1000 } }, { maxDatabaseBytes: 2 * 1024 * 1024 });
    const alice = await org.addUser('alice');
    const bob = await org.addUser('bob');
    await alice.engine.api.call('messages.send', { conversation: await idOf(alice.engine.api, '@bob'), text: 'before' }); // sessions are set up
    await bob.waitFor(() => bob.received().find((m) => m.text === 'before'), 10_000, 'the first message');

    // fill the relay's database to its cap with envelopes for a device that never fetches them, smaller and smaller
    // until not even a tiny one fits, so no room is left in any page for Alice's next envelope
    const { store } = org.server;
    const filler = (size: number): SendRequest => ({
      senderAccount: null, senderDevice: null, msgId: randomBytes(16), channelId: null, expiresAt: Date.now() + 600_000,
      sentAt: Date.now(), parts: [{ body: randomBytes(size), devices: [FILLER_DEVICE] }],
    });
    const fillerSeqs: number[] = [];
    for (const size of [8192, 1024, 128, 16]) {
      for (;;) {
        try {
          fillerSeqs.push(store.commitBatch([filler(size)], []).sends[0]!.deliveries[0]!.envelope.seq);
        } catch (error) {
          assert.equal((error as { code?: string }).code, 'SQLITE_FULL');
          break;
        }
      }
    }

    const sent = await alice.engine.api.call('messages.send', { conversation: await idOf(alice.engine.api, '@bob'), text: 'while full' });
    assert.equal(sent.status, 'pending', 'the relay refused it for now');
    await new Promise((r) => setTimeout(r, 800)); // a few retries hit the full relay
    assert.equal(bob.received().some((m) => m.text === 'while full'), false);
    const stored = await alice.engine.api.call('messages.list', { conversation: await idOf(alice.engine.api, '@bob'), limit: 10 });
    assert.equal(stored.messages.find((m) => m.id === sent.id)?.status, 'pending', 'pending, not failed');

    // room again: the filler is acknowledged; nothing else is sent or reconnected
    store.commitBatch([], [{ deviceId: FILLER_DEVICE, seqs: fillerSeqs }]);
    await bob.waitFor(() => bob.received().find((m) => m.text === 'while full'), 10_000, 'the refused message, resent by the outbox');
    const statusOf = async () => (await alice.engine.api.call('messages.list', { conversation: await idOf(alice.engine.api, '@bob'), limit: 10 })).messages.find((m) => m.id === sent.id)?.status;
    // sent, or already further (bob's delivery receipt may be back by now)
    const gone = (status: string | undefined) => ['sent', 'delivered', 'read'].includes(status ?? '');
    for (let i = 0; i < 50 && !gone(await statusOf()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(gone(await statusOf()), `sent, not ${await statusOf()}`);
  });

  it('keeps a message refused by the recipient device\'s queue quota pending, and sends it once that queue drains', { timeout: 60_000 }, async () => {
    quotaOrg = await startOrg({ sendWaitMs: 300, outboxRetry: { firstMs: 200, maxMs: 1000 } }, { deviceQueueQuotaBytes: 1024 * 1024 });
    const alice = await quotaOrg.addUser('alice');
    let bob = await quotaOrg.addUser('bob');
    await alice.engine.api.call('messages.send', { conversation: await idOf(alice.engine.api, '@bob'), text: 'before' });
    await bob.waitFor(() => bob.received().find((m) => m.text === 'before'), 10_000, 'the first message');
    const bobDevice = bob.engine.deviceId;
    await bob.engine.close(); // bob's device goes away while others fill its queue to its quota

    const { store } = quotaOrg.server;
    const fillerSeqs: number[] = [];
    for (let filled = 0; ; filled++) {
      assert.ok(filled < 100, 'the device quota stops the filler within 100 x 64 KiB');
      const result = store.commitBatch([{
        senderAccount: 'filler', senderDevice: 'filler-device', msgId: randomBytes(16), channelId: null, expiresAt: Date.now() + 600_000,
        sentAt: Date.now(), parts: [{ body: randomBytes(64 * 1024), devices: [bobDevice] }],
      }], []).sends[0]!;
      if (result.overQuota) break;
      fillerSeqs.push(result.deliveries[0]!.envelope.seq);
    }

    const sent = await alice.engine.api.call('messages.send', { conversation: await idOf(alice.engine.api, '@bob'), text: 'while over quota' });
    assert.equal(sent.status, 'pending', 'refused for now');
    await new Promise((r) => setTimeout(r, 800)); // a few retries meet the quota
    const statusOf = async () => (await alice.engine.api.call('messages.list', { conversation: await idOf(alice.engine.api, '@bob'), limit: 10 })).messages.find((m) => m.id === sent.id)?.status;
    assert.equal(await statusOf(), 'pending', 'pending, not failed');

    store.commitBatch([], [{ deviceId: bobDevice, seqs: fillerSeqs }]); // bob's queue drains
    for (let i = 0; i < 100 && (await statusOf()) !== 'sent'; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await statusOf(), 'sent', 'the outbox sent it by itself');
    bob = await bob.reopen();
    await bob.waitFor(() => bob.received().find((m) => m.text === 'while over quota'), 10_000, 'the message refused by the quota');
  });
});
