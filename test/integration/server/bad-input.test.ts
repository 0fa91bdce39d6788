// Hostile and broken input: every refusal is a 4xx (or an error frame) with a clear message, changes nothing
// in the database, and the server keeps serving other clients.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { randomBytes, toBase64Url, utf8 } from '../../../core/crypto/sodium.ts';
import { encodeFrame } from '../../../core/relay/frames.ts';
import { createOrg, http, startTestServer, WsClient } from '../../support/server-client.ts';
import type { TestUser } from '../../support/server-client.ts';
import { dbFingerprint } from '../../support/server-db.ts';

describe('bad input', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let alice: TestUser;
  let bob: TestUser;
  let channelId: string;
  let blobId: string;

  before(async () => {
    server = await startTestServer();
    const org = await createOrg(server);
    alice = await org.addUser('alice');
    bob = await org.addUser('bob');
    channelId = (await http<{ channelId: string }>(server.url, 'POST', '/v1/channels', { token: alice.token, json: { name: 'AA' } })).body.channelId;
    blobId = (await http<{ blobId: string }>(server.url, 'POST', '/v1/blobs', { token: alice.token, json: { size: 8 } })).body.blobId;
  });
  after(() => server.close());

  /** Runs a refused request and checks: the status, an error body with code and message, no state change. */
  const refused = async (status: number, method: string, route: string, options: Parameters<typeof http>[3] = {}) => {
    const before = dbFingerprint(server.dataDir);
    const reply = await http(server.url, method, route, options);
    assert.equal(reply.status, status, `${method} ${route}: ${JSON.stringify(reply.body)}`);
    assert.equal(typeof reply.body.error?.code, 'string', `${method} ${route} names an error code`);
    assert.ok((reply.body.error?.message.length ?? 0) > 3, `${method} ${route} explains itself`);
    assert.equal(dbFingerprint(server.dataDir), before, `${method} ${route} changed nothing`);
    return reply;
  };

  it('answers malformed JSON, wrong types, oversized bodies and unknown routes with a clear 4xx', async () => {
    await refused(400, 'POST', '/v1/channels', { token: alice.token, raw: '{"name": ', contentType: 'application/json' });
    await refused(400, 'POST', '/v1/channels', { token: alice.token, json: { name: 42 } });
    await refused(400, 'POST', '/v1/channels', { token: alice.token, json: { name: 'AA', open: 'yes' } });
    await refused(400, 'POST', '/v1/channels', { token: alice.token, json: { name: 'AA', extra: 1 } });
    await refused(400, 'POST', '/v1/channels', { token: alice.token, json: { name: 'not base64url!' } });
    await refused(400, 'POST', '/v1/channels', { token: alice.token, json: [1, 2] });
    await refused(400, 'POST', '/v1/auth/challenge', { json: { deviceId: '../../etc/passwd' } });
    await refused(413, 'POST', '/v1/channels', { token: alice.token, json: { name: 'A'.repeat(100_000) } });
    await refused(415, 'POST', '/v1/channels', { token: alice.token, raw: 'name=x', contentType: 'application/x-www-form-urlencoded' });
    const unknown = await refused(404, 'GET', '/v1/nothing-here', { token: alice.token });
    assert.equal(unknown.body.error?.code, 'no_route');
    await refused(404, 'DELETE', '/v1/accounts', {});
    await refused(400, 'POST', '/v1/accounts', { json: { inviteCode: 'x', username: 'UPPER case', accountPublicKey: 'AA' } });
    // prekey ids are 32-bit, as in the protocol: one past the range is refused, the top of it is stored
    const prekey = (keyId: number) => ({ oneTimePrekeys: [{ keyId, data: toBase64Url(randomBytes(32)) }] });
    await refused(400, 'PUT', '/v1/prekeys', { token: alice.token, json: prekey(2 ** 32) });
    await refused(400, 'PUT', '/v1/prekeys', { token: alice.token, json: prekey(-1) });
    assert.equal((await http(server.url, 'PUT', '/v1/prekeys', { token: alice.token, json: prekey(2 ** 32 - 1) })).status, 200);
  });

  it('refuses missing, forged and revoked-device tokens', async () => {
    await refused(401, 'GET', '/v1/me');
    await refused(401, 'GET', '/v1/me', { token: toBase64Url(randomBytes(32)) });
    await refused(401, 'GET', '/v1/me', { headers: { authorization: 'Basic abc' } });
    await assert.rejects(WsClient.connect(server.url, 'forged-token'), /401/);
  });

  it("keeps accounts out of each other's resources", async () => {
    await refused(404, 'PATCH', `/v1/channels/${channelId}`, { token: bob.token, json: { topic: 'AA' } });
    await refused(404, 'POST', `/v1/channels/${channelId}/members`, { token: bob.token, json: { accountIds: [bob.accountId] } });
    await refused(404, 'POST', `/v1/channels/${channelId}/join`, { token: bob.token });
    await refused(404, 'PUT', `/v1/blobs/${blobId}/data?offset=0`, { token: bob.token, raw: new Uint8Array(8) });
    await refused(404, 'DELETE', `/v1/blobs/${blobId}`, { token: bob.token });
    await refused(404, 'POST', `/v1/devices/${alice.deviceId}/revoke`, { token: bob.token, json: bob.nextDeviceList([bob.deviceId]) });
    bob.deviceListVersion--;
    await refused(403, 'GET', '/v1/admin/users', { token: bob.token });
  });

  it('refuses path tricks in blob ids and other path parameters', async () => {
    for (const trick of ['..%2F..%2Fwardroom-server.db', '%2E%2E', 'AAAAAAAAAAAAAAAAAAAAA%2F', `${blobId}%00`, 'a'.repeat(23)]) {
      const reply = await http(server.url, 'GET', `/v1/blobs/${trick}`, { token: alice.token });
      assert.ok(reply.status === 400 || reply.status === 404, `${trick} -> ${reply.status}`);
      assert.ok(reply.body.error, `${trick} gets an error body`);
    }
    const traversal = await http(server.url, 'GET', '/v1/blobs/../../wardroom-server.db', { token: alice.token });
    assert.equal(traversal.status, 404);
    await refused(400, 'GET', '/v1/blobs/..%2F..%2Fwardroom-server.db/status', { token: alice.token });
  });

  it('answers malformed, oversized and text WebSocket frames with error frames, and the socket and others keep working', async () => {
    const attacker = await WsClient.connect(server.url, alice.token);
    const bystander = await WsClient.connect(server.url, bob.token, { autoAck: true });
    const before = dbFingerprint(server.dataDir);
    const cases: Uint8Array[] = [
      new Uint8Array([0xff]), utf8('not cbor at all'), encodeFrame({ t: 'ack', rid: 1, seqs: [] }),
      encodeFrame({ t: 'send', rid: 2, msgId: new Uint8Array(3), expiresAt: Date.now() + 1000, to: [] }),
      new Uint8Array([0xa1, 0x61, 0x74, 0x64, 0x6e, 0x6f, 0x70, 0x65]), // {t: "nope"}
      new Uint8Array([0x9a, 0x05, 0xf5, 0xe1, 0x00]), // claims a 100-million-element array
    ];
    for (const frame of cases) attacker.sendRaw(frame);
    attacker.sendRaw('{"t":"send"}', false);
    await attacker.waitFor(() => attacker.frames.filter((f) => f.t === 'error').length >= cases.length + 1 || undefined);
    assert.ok(attacker.frames.filter((f) => f.t !== 'event').every((f) => f.t === 'error' && f.message.length > 3), JSON.stringify(attacker.frames));

    // Fuzz: random bytes and random CBOR values, fixed seed, bounded count.
    const fuzzed = fc.sample(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.anything().map((v) => {
      try { return encodeFrame(v as never); } catch { return new Uint8Array([0]); }
    })), { numRuns: 150, seed: 42 });
    for (const frame of fuzzed) attacker.sendRaw(frame);
    const sent = await attacker.sendToDevices([{ device: bob.deviceId, body: utf8('still works') }]);
    assert.equal(sent.t, 'sent', 'the socket is still usable after garbage');
    await bystander.waitFor(() => bystander.deliveries.find((d) => Buffer.from(d.body).toString() === 'still works'));
    assert.notEqual(dbFingerprint(server.dataDir), before); // the valid send was stored...
    await attacker.close();

    // An oversized frame closes that socket (1009), and only that one.
    const big = await WsClient.connect(server.url, alice.token);
    big.sendRaw(new Uint8Array(300 * 1024));
    assert.equal(await big.waitForClose(), 1009);
    const other = await WsClient.connect(server.url, alice.token);
    assert.equal((await other.sendToDevices([{ device: bob.deviceId, body: utf8('after') }])).t, 'sent');
    await Promise.all([other.close(), bystander.close()]);
  });
});
