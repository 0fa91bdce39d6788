// A relay out of storage (its database at the --max-db-size cap; a full disk fails the same way, with SQLITE_FULL):
// sends are refused with a clear storage_full error and nothing is half-stored, everything acknowledged before is
// still delivered, acknowledgements keep working (they are what frees space), and sending works again after.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, toHex, utf8 } from '../../../core/crypto/sodium.ts';
import { openSqliteStore } from '../../../server/store/sqlite.ts';
import type { SendRequest } from '../../../server/store/types.ts';
import { GroupCommitter } from '../../../server/ws/group-commit.ts';
import { createOrg, http, startTestServer, WsClient } from '../../support/server-client.ts';

const CAP_BYTES = 512 * 1024;
const BODY = 4096;

describe('storage full', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('refuses sends with storage_full, keeps what it acknowledged, takes acks, and recovers once they free space', { timeout: 60_000 }, async () => {
    const server = await startTestServer({ maxDatabaseBytes: CAP_BYTES });
    cleanups.push(() => server.close());
    const org = await createOrg(server);
    const alice = await org.addUser('alice');
    const bob = await org.addUser('bob'); // offline while alice fills the relay
    const sender = await WsClient.connect(server.url, alice.token);
    cleanups.push(() => sender.close());

    const stored = new Set<string>();
    let refusal: { code: string; message: string } | null = null;
    for (let i = 0; i < 1000 && !refusal; i++) {
      const msgId = randomBytes(16);
      const reply = await sender.sendToDevices([{ device: bob.deviceId, body: randomBytes(BODY) }], msgId);
      if (reply.t === 'sent') stored.add(toHex(msgId));
      else if (reply.t === 'error') refusal = { code: reply.code, message: reply.message };
    }
    assert.ok(refusal, 'the relay filled up within 1,000 sends of 4 KiB under a 512 KiB cap');
    assert.equal(refusal.code, 'storage_full');
    assert.match(refusal.message, /out of storage/);
    assert.ok(stored.size > 20, `some sends fitted first (${stored.size})`);
    assert.equal((await http(server.url, 'GET', '/v1/me', { token: alice.token })).status, 200, 'the relay still serves');

    // Bob fetches and acknowledges everything: all that was acknowledged to alice arrives, exactly once
    const receiver = await WsClient.connect(server.url, bob.token, { autoAck: true });
    cleanups.push(() => receiver.close());
    const delivered = await receiver.waitForDeliveries(stored.size, 20_000);
    assert.deepEqual(new Set(delivered.map((d) => toHex(d.msgId))), stored);
    assert.equal(delivered.length, stored.size, 'nothing refused was half-stored and delivered');
    await receiver.waitFor(() => server.store.pendingFor(bob.deviceId, 0, Date.now(), 10).length === 0 || undefined, 10_000);

    const again = await sender.sendToDevices([{ device: bob.deviceId, body: utf8('room again') }]);
    assert.equal(again.t, 'sent', 'the space the acks freed is used again');
  });

  it('commits the acks of a batch whose sends did not fit', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wardroom-full-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const store = openSqliteStore(path.join(dir, 'relay.db'), { maxBytes: 256 * 1024 });
    cleanups.push(() => store.close());
    const send = (): SendRequest => ({
      senderAccount: 'a', senderDevice: 'a1', msgId: randomBytes(16), channelId: null, expiresAt: Date.now() + 60_000, sentAt: Date.now(),
      parts: [{ body: randomBytes(BODY), devices: ['b1'] }],
    });
    const seqs: number[] = [];
    for (;;) {
      try {
        seqs.push(store.commitBatch([send()], []).sends[0]!.deliveries[0]!.envelope.seq);
      } catch (error) {
        assert.equal((error as { code?: string }).code, 'SQLITE_FULL');
        break;
      }
    }
    const committer = new GroupCommitter(store, () => {});
    // one event-loop turn, so one batch: a send that cannot fit and an ack of ten stored envelopes
    const sent = committer.send(send());
    const acked = committer.ack({ deviceId: 'b1', seqs: seqs.slice(0, 10) });
    await assert.rejects(sent, (error: { code?: string }) => error.code === 'SQLITE_FULL');
    assert.equal(await acked, 10, 'the acks were committed on their own');
    assert.equal(store.pendingFor('b1', 0, Date.now(), 10_000).length, seqs.length - 10);
    assert.equal((await committer.send(send())).duplicate, false, 'and the freed room takes a send again');
  });
});
