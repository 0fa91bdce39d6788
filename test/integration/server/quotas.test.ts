// Per-account queue quotas: an account (or several) flooding a device that never fetches its queue is refused with
// quota_exceeded at its own limit, long before the database cap, so everyone else's sends keep working; refused
// sends can be retried; the totals survive a restart and shrink on acknowledgement and expiry. And a device may
// store only so many one-time prekeys.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, toBase64Url } from '../../../core/crypto/sodium.ts';
import type { ServerFrame } from '../../../core/relay/frames.ts';
import { createOrg, http, login, startTestServer, tempDir, WsClient } from '../../support/server-client.ts';
import type { TestUser } from '../../support/server-client.ts';

const MiB = 1024 * 1024;
const BODY = 16 * 1024;

type Server = Awaited<ReturnType<typeof startTestServer>>;

describe('queue quotas', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  const connect = async (server: Server, user: TestUser, autoAck = false) => {
    const socket = await WsClient.connect(server.url, user.token, { autoAck });
    cleanups.push(() => socket.close());
    return socket;
  };
  /** Sends 16 KiB envelopes to `device` until the relay refuses one; returns what was stored and the refusal. */
  const flood = async (socket: WsClient, device: string, limit = 1000) => {
    let stored = 0;
    for (let i = 0; i < limit; i++) {
      const msgId = randomBytes(16);
      const reply = await socket.sendToDevices([{ device, body: randomBytes(BODY) }], msgId);
      if (reply.t === 'error') return { stored, refusal: reply, msgId };
      stored++;
    }
    throw new Error(`no refusal after ${limit} sends`);
  };
  const sentOk = (reply: ServerFrame) => assert.equal(reply.t, 'sent', JSON.stringify(reply));

  it('refuses one flooding account at its quota while the others\' sends still succeed under a database cap', { timeout: 60_000 }, async () => {
    const dataDir = tempDir(); // kept across the restart below
    const server = await startTestServer({ dataDir, maxDatabaseBytes: 4 * MiB, senderQueueQuotaBytes: MiB, deviceQueueQuotaBytes: 0 });
    cleanups.push(() => server.close());
    const org = await createOrg(server);
    const [alice, bob, carol, dave] = [await org.addUser('alice'), await org.addUser('bob'), await org.addUser('carol'), await org.addUser('dave')];
    const flooder = await connect(server, alice);
    const { stored, refusal, msgId } = await flood(flooder, bob.deviceId); // bob never connects meanwhile
    assert.ok(refusal.t === 'error' && refusal.code === 'quota_exceeded', `refused with ${JSON.stringify(refusal)}`);
    assert.match(refusal.message, /your account has 1 MiB waiting .* retry later/);
    assert.ok(stored >= 55 && stored <= 64, `about 1 MiB stored first (${stored} x 16 KiB)`);

    const other = await connect(server, carol);
    for (let i = 0; i < 40; i++) sentOk(await other.sendToDevices([{ device: i % 2 ? bob.deviceId : dave.deviceId, body: randomBytes(BODY) }]));

    // the totals are rebuilt from the database: a restart does not reset anyone's quota
    await server.close();
    const restarted = await startTestServer({ dataDir, maxDatabaseBytes: 4 * MiB, senderQueueQuotaBytes: MiB, deviceQueueQuotaBytes: 0 });
    cleanups.push(() => restarted.close());
    for (const user of [alice, bob]) user.devices[0]!.token = await login(restarted.url, user.devices[0]!.keys); // a restart signs everyone out
    const again = await connect(restarted, alice);
    const retried = await again.sendToDevices([{ device: bob.deviceId, body: randomBytes(BODY) }], msgId);
    assert.equal(retried.t === 'error' && retried.code, 'quota_exceeded', 'still over quota after the restart');

    // bob fetches and acknowledges his queue: alice's room comes back, and the refused message id can be sent now
    const reader = await connect(restarted, bob, true);
    await reader.waitForDeliveries(stored + 20, 20_000);
    await reader.waitFor(() => restarted.store.pendingFor(bob.deviceId, 0, Date.now(), 1).length === 0 || undefined, 10_000);
    const retry = await again.sendToDevices([{ device: bob.deviceId, body: randomBytes(BODY) }], msgId);
    assert.ok(retry.t === 'sent' && !retry.duplicate, `a refused send was not kept as a duplicate: ${JSON.stringify(retry)}`);
  });

  it('refuses sends to a device whose queue is full, from anyone, and frees the room as the queue expires', { timeout: 60_000 }, async () => {
    const server = await startTestServer({ deviceQueueQuotaBytes: MiB, senderQueueQuotaBytes: 0 });
    cleanups.push(() => server.close());
    const org = await createOrg(server);
    const [alice, carol, dave, erin] = [await org.addUser('alice'), await org.addUser('carol'), await org.addUser('dave'), await org.addUser('erin')];
    const a = await connect(server, alice);
    const c = await connect(server, carol);
    for (let i = 0; i < 30; i++) sentOk(await a.sendToDevices([{ device: erin.deviceId, body: randomBytes(BODY) }]));
    const { stored, refusal } = await flood(c, erin.deviceId);
    assert.ok(refusal.t === 'error' && refusal.code === 'quota_exceeded', JSON.stringify(refusal));
    assert.match(refusal.message, /a recipient device has 1 MiB waiting/);
    assert.ok(stored + 30 <= 64, 'erin\'s 1 MiB counts what everyone queued for her');
    // the whole send is refused, including its copy for a device with room
    const mixed = await a.sendToDevices([{ device: dave.deviceId, body: randomBytes(BODY) }, { device: erin.deviceId, body: randomBytes(BODY) }]);
    assert.equal(mixed.t === 'error' && mixed.code, 'quota_exceeded');
    assert.equal(server.store.pendingFor(dave.deviceId, 0, Date.now(), 10).length, 0, 'nothing of a refused send was stored');
    sentOk(await a.sendToDevices([{ device: dave.deviceId, body: randomBytes(BODY) }]));

    await server.sweep(Date.now() + 40 * 24 * 3600 * 1000); // everything queued has expired
    sentOk(await c.sendToDevices([{ device: erin.deviceId, body: randomBytes(BODY) }], randomBytes(16), Date.now() + 3_600_000));
  });

  it('lets a device store only so many one-time prekeys', async () => {
    const server = await startTestServer({ maxOneTimePrekeys: 300 });
    cleanups.push(() => server.close());
    const { admin } = await createOrg(server);
    const upload = (from: number, count: number) => http(server.url, 'PUT', '/v1/prekeys', {
      token: admin.token, json: { oneTimePrekeys: Array.from({ length: count }, (_, i) => ({ keyId: from + i, data: toBase64Url(randomBytes(32)) })) },
    });
    assert.equal((await upload(0, 200)).status, 200);
    assert.equal((await upload(200, 100)).status, 200);
    const refused = await upload(300, 1);
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error?.code, 'too_many_prekeys');
    assert.equal((await http<{ oneTimePrekeys: number }>(server.url, 'GET', '/v1/prekeys/count', { token: admin.token })).body.oneTimePrekeys, 300);
  });
});
