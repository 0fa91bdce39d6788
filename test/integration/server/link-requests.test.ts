// Device linking against anonymous abuse. Anyone may ask to join an account without logging in, so such requests
// must bind nothing: they cannot fill an account's linking or recovery, the answer does not tell whether a
// username exists, a request lives only while its device polls, and a withdrawn or abandoned one can never be
// approved (which would make an active device whose keys are gone).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { fromBase64Url, randomBytes, sign, signingKeyPair, toBase64Url } from '../../../core/crypto/sodium.ts';
import type { SigningKeyPair } from '../../../core/crypto/sodium.ts';
import { authMessage, linkCancelMessage } from '../../../core/relay/challenge-messages.ts';
import { deviceIdFor } from '../../../server/ids.ts';
import { createOrg, http as fetchJson, login, loginReply, startTestServer } from '../../support/server-client.ts';
import type { Reply, TestUser } from '../../support/server-client.ts';

const IDLE_MS = 400;

/** A JSON request from a chosen loopback source address: each stands for another client on the internet. */
function from(source: string, url: string, method: string, route: string, json?: unknown): Promise<Reply> {
  const body = json === undefined ? undefined : Buffer.from(JSON.stringify(json));
  return new Promise((resolve, reject) => {
    const request = http.request(new URL(route, url), {
      method, localAddress: source, headers: body ? { 'content-type': 'application/json', 'content-length': body.length } : {},
    }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString() || '{}') }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

describe('device link requests', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let org: Awaited<ReturnType<typeof createOrg>>;
  let short: typeof server;
  before(async () => {
    server = await startTestServer(); // requests outlive their device's last poll by the default 15 s
    org = await createOrg(server);
  });
  after(async () => {
    await server.close();
    await short?.close();
  });

  const ask = (username: string, keys: SigningKeyPair, source = '127.0.0.1', url = server.url) =>
    from(source, url, 'POST', '/v1/devices/pending', { username, signingPublicKey: toBase64Url(keys.publicKey) });
  const approve = (user: TestUser, keys: SigningKeyPair, url = server.url) => {
    const deviceId = deviceIdFor(keys.publicKey);
    return fetchJson(url, 'POST', `/v1/devices/${deviceId}/approve`, {
      token: user.token, json: { certificate: user.certificate(keys), ...user.nextDeviceList([...user.devices.map((d) => d.deviceId), deviceId]) },
    });
  };
  const challenge = async (deviceId: string, url = server.url) => (await fetchJson<{ challenge: string }>(url, 'POST', '/v1/auth/challenge', { json: { deviceId } })).body.challenge;

  it('anonymous requests from many addresses cannot block an account\'s linking or recovery', async () => {
    const alice = await org.addUser('alice');
    // twenty "addresses", each holding as many requests in alice's name as one address may
    for (let a = 2; a < 22; a++) {
      for (let i = 0; i < 5; i++) assert.equal((await ask('alice', signingKeyPair(), `127.0.0.${a}`)).status, 201);
      assert.equal((await ask('alice', signingKeyPair(), `127.0.0.${a}`)).body.error?.code, 'too_many_pending', 'per address, not per account');
    }
    const laptop = signingKeyPair();
    assert.equal((await ask('alice', laptop)).status, 201, 'alice\'s own device still gets its request in');
    const approved = await approve(alice, laptop);
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.ok(await login(server.url, laptop));

    const kit = signingKeyPair(); // recovery with the account key starts with the same request, and works too
    assert.equal((await ask('alice', kit)).status, 201);
    const kitId = deviceIdFor(kit.publicKey);
    const fresh = await challenge(kitId);
    const recovered = await fetchJson(server.url, 'POST', `/v1/devices/${kitId}/recover`, {
      json: {
        challenge: fresh, signature: alice.recoverySignature(fresh, kitId), certificate: alice.certificate(kit),
        ...alice.nextDeviceList([alice.deviceId, deviceIdFor(laptop.publicKey), kitId]),
      },
    });
    assert.equal(recovered.status, 200, JSON.stringify(recovered.body));
  });

  it('answers alike for a username that exists and one that does not, and returns no account data', async () => {
    await org.addUser('bella');
    const real = await ask('bella', signingKeyPair(), '127.0.0.30');
    const made = await ask('nobody-here', signingKeyPair(), '127.0.0.30');
    assert.equal(real.status, 201);
    assert.equal(made.status, 201);
    assert.deepEqual(Object.keys(real.body).sort(), ['deviceId', 'expiresAt']);
    assert.deepEqual(Object.keys(made.body).sort(), Object.keys(real.body).sort());

    // Recovery: a wrong account key for a real name and any key for a made-up one meet the same refusal.
    const refusals = [];
    for (const [username, source] of [['bella', '127.0.0.31'], ['nobody-here', '127.0.0.32']] as const) {
      const keys = signingKeyPair();
      const deviceId = deviceIdFor(keys.publicKey);
      await ask(username, keys, source);
      const fresh = await challenge(deviceId);
      const signature = toBase64Url(sign(randomBytes(32), signingKeyPair().secretKey));
      const reply = await fetchJson(server.url, 'POST', `/v1/devices/${deviceId}/recovery-info`, { json: { challenge: fresh, signature } });
      refusals.push([reply.status, reply.body]);
    }
    assert.deepEqual(refusals[0], refusals[1]);
    assert.equal(refusals[0]![0], 401);
  });

  it('a withdrawn request cannot be approved; a withdrawal needs the device\'s own key', async () => {
    const cara = await org.addUser('cara');
    const keys = signingKeyPair();
    const deviceId = deviceIdFor(keys.publicKey);
    assert.equal((await ask('cara', keys, '127.0.0.40')).status, 201);
    const listed = await fetchJson<{ devices: { deviceId: string; status: string }[] }>(server.url, 'GET', `/v1/accounts/${cara.accountId}/devices`, { token: cara.token });
    assert.equal(listed.body.devices.find((d) => d.deviceId === deviceId)?.status, 'pending', 'cara\'s own devices see it waiting');
    const seenByOthers = await fetchJson<{ devices: { deviceId: string }[] }>(server.url, 'GET', `/v1/accounts/${cara.accountId}/devices`, { token: org.admin.token });
    assert.equal(seenByOthers.body.devices.some((d) => d.deviceId === deviceId), false, 'nobody else does');

    const forged = await fetchJson(server.url, 'POST', `/v1/devices/${deviceId}/cancel`, {
      json: { challenge: await challenge(deviceId), signature: toBase64Url(sign(randomBytes(8), signingKeyPair().secretKey)) },
    });
    assert.equal(forged.status, 401, 'someone else cannot withdraw it');
    const fresh = await challenge(deviceId);
    const cancelled = await fetchJson(server.url, 'POST', `/v1/devices/${deviceId}/cancel`, {
      json: { challenge: fresh, signature: toBase64Url(sign(linkCancelMessage(fromBase64Url(fresh), deviceId), keys.secretKey)) },
    });
    assert.deepEqual([cancelled.status, cancelled.body], [200, { deviceId, status: 'cancelled' }]);
    const late = await approve(cara, keys);
    assert.equal(late.status, 404);
    assert.equal(late.body.error?.code, 'no_link_request');
    assert.equal(server.store.getDevice(deviceId), null, 'no device was made');
    assert.equal((await loginReply(server.url, keys)).status, 401);
  });

  it('a request lives while its device polls, and lapses once it stops', async () => {
    short = await startTestServer({ linkIdleMs: IDLE_MS });
    const dana = await (await createOrg(short)).addUser('dana');
    const polling = signingKeyPair();
    const abandoned = signingKeyPair();
    await ask('dana', polling, '127.0.0.50', short.url);
    await ask('dana', abandoned, '127.0.0.50', short.url);
    // the polling device logs in (answered device_pending) across several idle periods; the other never does
    const until = Date.now() + 3 * IDLE_MS;
    while (Date.now() < until) {
      assert.equal((await loginReply(short.url, polling)).body.error?.code, 'device_pending');
      await new Promise((resolve) => setTimeout(resolve, IDLE_MS / 4));
    }
    assert.equal((await approve(dana, abandoned, short.url)).body.error?.code, 'no_link_request', 'its process stopped: it cannot be approved');
    assert.equal((await approve(dana, polling, short.url)).status, 200, 'the live one can');
    // a poll is a signed login: an outsider who knows the device id cannot keep a request alive or learn its state
    const deviceId = deviceIdFor(signingKeyPair().publicKey);
    const fresh = await challenge(deviceId, short.url);
    const stranger = await fetchJson(short.url, 'POST', '/v1/auth/session', {
      json: { deviceId, challenge: fresh, signature: toBase64Url(sign(authMessage(fromBase64Url(fresh), deviceId), signingKeyPair().secretKey)) },
    });
    assert.equal(stranger.body.error?.code, 'bad_signature');
  });
});
