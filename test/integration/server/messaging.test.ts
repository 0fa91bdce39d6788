// Envelopes, channels, prekeys and signalling against a real server on a random loopback port.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, toBase64Url, utf8 } from '../../../core/crypto/sodium.ts';
import { createOrg, decodeNotice, http, startTestServer, WsClient } from '../../support/server-client.ts';
import type { TestUser } from '../../support/server-client.ts';

describe('relay messaging', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let dave: TestUser;
  const sockets: WsClient[] = [];
  const connect = async (token: string, autoAck = false) => {
    const socket = await WsClient.connect(server.url, token, { autoAck });
    sockets.push(socket);
    return socket;
  };

  before(async () => {
    server = await startTestServer();
    const org = await createOrg(server);
    alice = await org.addUser('alice');
    bob = await org.addUser('bob');
    carol = await org.addUser('carol');
    dave = await org.addUser('dave');
  });
  after(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await server.close();
  });

  it('stores a pairwise envelope for an offline device, delivers it on connect and deletes it after the ack', async () => {
    const a = await connect(alice.token);
    const msgId = randomBytes(16);
    const sent = await a.sendToDevices([{ device: bob.deviceId, body: utf8('ciphertext-1') }], msgId);
    assert.deepEqual(sent, { t: 'sent', rid: sent.t === 'sent' ? sent.rid : -1, duplicate: false });
    const b = await connect(bob.token);
    const [delivery] = await b.waitForDeliveries(1);
    assert.deepEqual(Buffer.from(delivery!.body).toString(), 'ciphertext-1');
    assert.deepEqual(delivery!.from, { account: alice.accountId, device: alice.deviceId });
    assert.deepEqual(Buffer.from(delivery!.msgId), Buffer.from(msgId));
    const acked = await b.ack([delivery!.seq]);
    assert.equal(acked.t === 'acked' && acked.removed, 1);
    await b.close();
    const again = await connect(bob.token);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(again.deliveries.length, 0, 'an acknowledged envelope is never delivered again');
    await again.close();
    await a.close();
  });

  it('tells a connecting device once that its stored backlog has been pushed (queue_empty), after the backlog', async () => {
    const a = await connect(alice.token);
    for (let i = 0; i < 3; i++) await a.sendToDevices([{ device: carol.deviceId, body: utf8(`backlog-${i}`) }]);
    const c = await connect(carol.token, true);
    const index = await c.waitFor(() => {
      const at = c.frames.findIndex((f) => f.t === 'event' && f.kind === 'queue_empty');
      return at >= 0 ? at + 1 : undefined;
    });
    assert.equal(c.frames.slice(0, index - 1).filter((f) => f.t === 'deliver').length, 3, 'all three stored envelopes come before the marker');
    await a.sendToDevices([{ device: carol.deviceId, body: utf8('live') }]);
    await c.waitForDeliveries(4);
    assert.equal(c.frames.filter((f) => f.t === 'event' && f.kind === 'queue_empty').length, 1, 'sent once per connection');
    await c.close();
    await a.close();
  });

  it('is idempotent by message id: a retried send is stored and delivered once', async () => {
    const a = await connect(alice.token);
    const b = await connect(bob.token);
    const msgId = randomBytes(16);
    const first = await a.sendToDevices([{ device: bob.deviceId, body: utf8('once') }], msgId);
    const retry = await a.sendToDevices([{ device: bob.deviceId, body: utf8('once') }], msgId);
    assert.equal(first.t === 'sent' && first.duplicate, false);
    assert.equal(retry.t === 'sent' && retry.duplicate, true);
    await b.waitForDeliveries(1);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(b.deliveries.filter((d) => Buffer.from(d.msgId).equals(Buffer.from(msgId))).length, 1);
    await b.ack(b.deliveries.map((d) => d.seq));
    await Promise.all([a.close(), b.close()]);
  });

  it('group-commits concurrent sends from many sockets: fewer transactions than sends, every one acknowledged', async () => {
    const senders = await Promise.all([alice, bob, carol].map((u) => connect(u.token)));
    const before = { batches: server.hub.committer.batches, sends: server.hub.committer.committedSends };
    const replies = await Promise.all(senders.flatMap((socket) => Array.from({ length: 30 }, () =>
      socket.sendToDevices([{ device: alice.deviceId, body: utf8('batched') }]))));
    assert.ok(replies.every((r) => r.t === 'sent'));
    const sends = server.hub.committer.committedSends - before.sends;
    const batches = server.hub.committer.batches - before.batches;
    assert.equal(sends, 90);
    assert.ok(batches < sends / 3, `${sends} sends took ${batches} transactions`);
    const a = senders[0]!;
    await a.waitForDeliveries(90);
    await a.ack(a.deliveries.map((d) => d.seq));
    await Promise.all(senders.map((s) => s.close()));
  });

  it('refuses an envelope that has already expired and drops queued envelopes when they expire', async () => {
    const a = await connect(alice.token);
    const refused = await a.sendToDevices([{ device: carol.deviceId, body: utf8('late') }], randomBytes(16), Date.now() - 1);
    assert.equal(refused.t === 'error' && refused.code, 'expired');
    const expiresAt = Date.now() + 1500; // long enough to be accepted even on a loaded machine
    const shortLived = await a.sendToDevices([{ device: carol.deviceId, body: utf8('ephemeral') }], randomBytes(16), expiresAt);
    assert.equal(shortLived.t, 'sent');
    await new Promise((r) => setTimeout(r, expiresAt - Date.now() + 50));
    const c = await connect(carol.token);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(c.deliveries.length, 0, 'an envelope past its outer expiry is never delivered');
    assert.ok(server.store.sweepExpired(Date.now()) >= 1, 'the sweeper removes it from the database');
    await Promise.all([a.close(), c.close()]);
  });

  it('refuses sends to unknown or revoked devices, naming them', async () => {
    const a = await connect(alice.token);
    const bogus = toBase64Url(randomBytes(16));
    const reply = await a.sendToDevices([{ device: bob.deviceId, body: utf8('x') }, { device: bogus, body: utf8('y') }]);
    assert.equal(reply.t, 'error');
    assert.ok(reply.t === 'error' && reply.code === 'stale_devices' && reply.message.includes(bogus));
    await a.close();
  });

  it('fans a channel message out to every member device except the sender, and announces membership changes', async () => {
    const created = await http<{ channelId: string }>(server.url, 'POST', '/v1/channels', {
      token: alice.token, json: { name: toBase64Url(utf8('encrypted-name')), open: false },
    });
    assert.equal(created.status, 201);
    const channelId = created.body.channelId;
    const bob2 = await bob.linkDevice();
    const b1 = await connect(bob.token, true);
    const b2 = await connect(bob2.token, true);
    const a = await connect(alice.token, true);
    const invited = await http(server.url, 'POST', `/v1/channels/${channelId}/members`, { token: alice.token, json: { accountIds: [bob.accountId] } });
    assert.equal(invited.status, 200);
    // Each member device hears about the join as a durable server notice (from: null).
    const joinNotice = await b2.waitFor(() => b2.deliveries.find((d) => d.from === null && d.channel === channelId));
    assert.deepEqual(decodeNotice(joinNotice.body), {
      kind: 'membership', channel: channelId, change: 'joined', accounts: [bob.accountId], by: alice.accountId, role: 'member',
    });
    const sent = await a.sendToChannel(channelId, utf8('sender-key-ciphertext'));
    assert.equal(sent.t, 'sent');
    for (const socket of [b1, b2]) {
      const got = await socket.waitFor(() => socket.deliveries.find((d) => d.from !== null && d.channel === channelId));
      assert.equal(Buffer.from(got.body).toString(), 'sender-key-ciphertext');
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(a.deliveries.filter((d) => d.from !== null).length, 0, 'the sending device does not get its own message');

    // A non-member cannot send to the channel, nor list it.
    const c = await connect(carol.token);
    const refused = await c.sendToChannel(channelId, utf8('intrusion'));
    assert.equal(refused.t === 'error' && refused.code, 'not_member');
    assert.equal((await http(server.url, 'GET', `/v1/channels/${channelId}/members`, { token: carol.token })).status, 404);

    // Removal is announced to the removed account too, and it then gets nothing more.
    const removed = await http(server.url, 'DELETE', `/v1/channels/${channelId}/members/${bob.accountId}`, { token: alice.token });
    assert.equal(removed.status, 200);
    await b1.waitFor(() => b1.deliveries.find((d) => d.from === null && decodeNotice(d.body).kind === 'membership'
      && (decodeNotice(d.body) as { change: string }).change === 'removed'));
    const before = b1.deliveries.length;
    await a.sendToChannel(channelId, utf8('after removal'));
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(b1.deliveries.length, before, 'a removed member receives no further channel messages');
    await Promise.all([a.close(), b1.close(), b2.close(), c.close()]);
  });

  it('manages channels: rename, topic, roles, join open channels, leave, last owner', async () => {
    const created = await http<{ channelId: string }>(server.url, 'POST', '/v1/channels', {
      token: alice.token, json: { name: toBase64Url(utf8('n1')), open: true },
    });
    const id = created.body.channelId;
    assert.equal((await http(server.url, 'POST', `/v1/channels/${id}/join`, { token: carol.token })).status, 200);
    assert.equal((await http(server.url, 'PATCH', `/v1/channels/${id}`, { token: carol.token, json: { name: toBase64Url(utf8('n2')) } })).status, 403,
      'a plain member may not rename');
    assert.equal((await http(server.url, 'PATCH', `/v1/channels/${id}`, { token: carol.token, json: { topic: toBase64Url(utf8('t')) } })).status, 200);
    assert.equal((await http(server.url, 'PUT', `/v1/channels/${id}/members/${carol.accountId}`, { token: carol.token, json: { role: 'owner' } })).status, 403);
    assert.equal((await http(server.url, 'PUT', `/v1/channels/${id}/members/${carol.accountId}`, { token: alice.token, json: { role: 'admin' } })).status, 200);
    const renamed = await http<{ name: string }>(server.url, 'PATCH', `/v1/channels/${id}`, { token: carol.token, json: { name: toBase64Url(utf8('n2')) } });
    assert.equal(renamed.body.name, toBase64Url(utf8('n2')));
    assert.equal((await http(server.url, 'POST', `/v1/channels/${id}/leave`, { token: alice.token })).status, 409, 'the last owner cannot leave');
    const list = await http<{ channels: { channelId: string; role: string }[] }>(server.url, 'GET', '/v1/channels', { token: bob.token });
    assert.equal(list.body.channels.find((c) => c.channelId === id)?.role, null, 'open channels are listed to non-members');
    assert.equal((await http(server.url, 'POST', `/v1/channels/${id}/leave`, { token: carol.token })).status, 200);
    const members = await http<{ members: { accountId: string }[] }>(server.url, 'GET', `/v1/channels/${id}/members`, { token: alice.token });
    assert.deepEqual(members.body.members.map((m) => m.accountId), [alice.accountId]);
  });

  it('hands each one-time prekey to exactly one of many concurrent claims and warns the device when stock runs low', async () => {
    const oneTime = Array.from({ length: 20 }, (_, i) => ({ keyId: i + 1, data: toBase64Url(randomBytes(32)) }));
    const up = await http(server.url, 'PUT', '/v1/prekeys', {
      token: carol.token, json: { signedPrekey: { keyId: 7, data: toBase64Url(randomBytes(96)) }, oneTimePrekeys: oneTime },
    });
    assert.equal(up.body.oneTimePrekeys, 20);
    const c = await connect(carol.token);
    // three claimers, ten claims each: within the per-claimer limits (test/integration/server/prekeys.test.ts)
    const claims = await Promise.all(Array.from({ length: 30 }, (_, i) =>
      http<{ bundles: { deviceId: string; signedPrekey: { keyId: number }; oneTimePrekey: { keyId: number } | null }[] }>(
        server.url, 'POST', `/v1/accounts/${carol.accountId}/prekeys/claim`, { token: [alice, bob, dave][i % 3]!.token, json: {} })));
    assert.ok(claims.every((c) => c.status === 200), JSON.stringify(claims.find((c) => c.status !== 200)?.body));
    const handedOut = claims.map((c) => c.body.bundles[0]!.oneTimePrekey?.keyId).filter((k) => k !== undefined);
    assert.equal(handedOut.length, 20, 'exactly the 20 stored keys were handed out');
    assert.equal(new Set(handedOut).size, 20, 'no key went to two claimers');
    assert.ok(claims.every((c) => c.body.bundles[0]!.signedPrekey.keyId === 7));
    const low = await c.waitFor(() => c.frames.find((f) => f.t === 'event' && f.kind === 'prekeys_low'));
    assert.ok(low);
    const count = await http(server.url, 'GET', '/v1/prekeys/count', { token: carol.token });
    assert.equal(count.body.oneTimePrekeys, 0);
    await c.close();
  });

  it('routes opaque call signals to a connected device and reports presence', async () => {
    const a = await connect(alice.token);
    const c = await connect(carol.token);
    const ok = await a.request({ t: 'signal', rid: a.nextRid(), to: carol.deviceId, body: utf8('sdp-offer-ciphertext') });
    assert.equal(ok.t, 'signalled');
    const signal = await c.waitFor(() => c.frames.find((f) => f.t === 'event' && f.kind === 'signal'));
    assert.ok(signal.t === 'event' && signal.kind === 'signal' && Buffer.from(signal.body).toString() === 'sdp-offer-ciphertext');
    const presence = await http<{ presence: { accountId: string; online: boolean }[] }>(server.url, 'GET',
      `/v1/presence?accounts=${carol.accountId},${bob.accountId}`, { token: alice.token });
    assert.deepEqual(presence.body.presence, [{ accountId: carol.accountId, online: true }, { accountId: bob.accountId, online: false }]);
    await c.close();
    await new Promise((r) => setTimeout(r, 50));
    const offline = await a.request({ t: 'signal', rid: a.nextRid(), to: carol.deviceId, body: utf8('x') });
    assert.equal(offline.t === 'error' && offline.code, 'offline');
    await a.close();
  });

  it('stops pushing to a consumer that does not read, keeps accepting sends, and catches it up in order', async () => {
    const a = await connect(alice.token);
    const c = await connect(carol.token);
    c.socket.pause(); // carol's client stops reading: TCP buffers fill, then the server's send buffer grows
    const body = randomBytes(100 * 1024);
    const total = 80; // 8 MB: far past the kernel buffers and the 1 MiB high-water mark
    for (let i = 0; i < total; i++) assert.equal((await a.sendToDevices([{ device: carol.deviceId, body }])).t, 'sent');
    await new Promise((r) => setTimeout(r, 100));
    const waiting = server.store.pendingFor(carol.deviceId, 0, Date.now(), 1000).filter((e) => e.body.length === body.length);
    assert.equal(waiting.length, total, 'all of it waits in the database');
    c.socket.resume();
    await c.waitFor(() => c.deliveries.filter((d) => d.body.length === body.length).length >= total || undefined, 15_000);
    const seqs = c.deliveries.map((d) => d.seq);
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y));
    assert.equal(new Set(seqs).size, seqs.length, 'nothing delivered twice');
    await c.ack(seqs);
    await Promise.all([a.close(), c.close()]);
  });

  it('keeps a slow consumer\'s queue in the database and delivers all of it in order once it reads', async () => {
    const a = await connect(alice.token);
    const body = randomBytes(60 * 1024);
    const total = 60; // ~3.6 MB: well past the socket high-water mark
    const replies = await Promise.all(Array.from({ length: total }, () => a.sendToDevices([{ device: carol.deviceId, body }])));
    assert.ok(replies.every((r) => r.t === 'sent'));
    const c = await connect(carol.token);
    const got = await c.waitForDeliveries(total, 15_000);
    const seqs = got.map((d) => d.seq);
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), 'delivered in queue order');
    assert.equal(new Set(seqs).size, total, 'nothing delivered twice');
    await c.ack(seqs);
    await Promise.all([a.close(), c.close()]);
  });
});

describe('relay heartbeat', () => {
  it('drops a socket that stops answering pings, so presence does not lie', async () => {
    const server = await startTestServer({ heartbeatMs: 100 });
    const org = await createOrg(server);
    const dana = await org.addUser('dana');
    const live = await WsClient.connect(server.url, org.admin.token);
    const silent = await WsClient.connect(server.url, dana.token);
    const online = async () => (await http<{ presence: { online: boolean }[] }>(server.url, 'GET',
      `/v1/presence?accounts=${dana.accountId}`, { token: org.admin.token })).body.presence[0]!.online;
    assert.equal(await online(), true);
    silent.socket.pause(); // its pongs stop: from the server's side this is a half-open connection
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await online(), false, 'the silent socket was dropped');
    assert.equal(live.closeCode, null, 'a socket that answers pings stays');
    silent.socket.terminate();
    await live.close();
    await server.close();
  });
});
