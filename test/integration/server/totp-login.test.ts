// TOTP gates login: a device signature alone (a stolen device key, say) gets no session on an account with TOTP,
// a lock-out for wrong codes holds for every login, and only the org's signed policy can let a device that
// recently gave a code log in again without one. The engine's HTTP client asks its code provider when needed.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateSync } from 'otplib';
import { signingKeyPair, toBase64Url, utf8 } from '../../../core/crypto/sodium.ts';
import { RelayError, RelayHttp, trustEndpoint } from '../../../core/engine/relay-http.ts';
import { createOrg, http, loginReply, signed, startTestServer } from '../../support/server-client.ts';
import type { TestUser } from '../../support/server-client.ts';

type Server = Awaited<ReturnType<typeof startTestServer>>;

/** Codes for successive 30 s steps (each is accepted once, and one step of drift either way is allowed). */
const codes = (secret: string) => {
  let step = -1;
  return () => generateSync({ secret, epoch: Math.floor(Date.now() / 1000) + 30 * step++ });
};

async function enableTotp(server: Server, user: TestUser): Promise<() => string> {
  const begin = await http<{ secret: string }>(server.url, 'POST', '/v1/account/totp/begin', { token: user.token });
  const next = codes(begin.body.secret);
  assert.equal((await http(server.url, 'POST', '/v1/account/totp/confirm', { token: user.token, json: { code: next() } })).status, 200);
  return next;
}

describe('TOTP gates login', () => {
  let server: Server;
  let org: Awaited<ReturnType<typeof createOrg>>;
  before(async () => {
    server = await startTestServer();
    org = await createOrg(server);
  });
  after(() => server.close());

  it('an account with TOTP gets no session from a device signature alone, and a lock-out holds with or without a code', async () => {
    const mia = await org.addUser('mia');
    const keys = mia.devices[0]!.keys;
    const next = await enableTotp(server, mia);
    const bare = await loginReply(server.url, keys);
    assert.equal(bare.status, 401);
    assert.equal(bare.body.error?.code, 'totp_required');
    const withCode = await loginReply(server.url, keys, next());
    assert.equal(withCode.status, 200);
    assert.equal(withCode.body.secondFactor, true);
    assert.equal((await loginReply(server.url, keys)).body.error?.code, 'totp_required', 'no policy: every new session needs a code');

    for (let i = 0; i < 5; i++) assert.equal((await loginReply(server.url, keys, '000000')).body.error?.code, 'bad_totp');
    for (const [what, code] of [['without a code', undefined], ['with the right code', next()]] as const) {
      const locked = await loginReply(server.url, keys, code);
      assert.equal(locked.status, 429, what);
      assert.equal(locked.body.error?.code, 'locked_out', what);
    }
    // a session from before the lock-out keeps working: the lock-out is about new sessions
    assert.equal((await http(server.url, 'GET', '/v1/me', { token: withCode.body.token })).status, 200);
  });

  it('the engine\'s client asks its code provider when the relay wants a code, and says so when it has none', async () => {
    const olga = await org.addUser('olga');
    const next = await enableTotp(server, olga);
    const endpoint = await trustEndpoint(server.url, null);
    const device = olga.devices[0]!;

    const without = new RelayHttp(endpoint);
    without.setDevice(device.deviceId, device.keys.secretKey);
    await assert.rejects(without.me(), (error) => error instanceof RelayError && error.code === 'totp_required');
    without.close();

    let asked = 0;
    const withProvider = new RelayHttp(endpoint, { totpCode: async () => (asked++, next()) });
    withProvider.setDevice(device.deviceId, device.keys.secretKey);
    assert.equal((await withProvider.me()).secondFactor, true);
    assert.equal(asked, 1);
    withProvider.close();

    const declining = new RelayHttp(endpoint, { totpCode: async () => null });
    declining.setDevice(device.deviceId, device.keys.secretKey);
    await assert.rejects(declining.me(), (error) => error instanceof RelayError && error.code === 'totp_required' && /no code was given/.test(error.message));
    declining.close();
  });
  it('lets a device log in without a code for the window the signed policy sets after it gave one, and a just-approved device finish enrolling', async () => {
    const orgKeys = signingKeyPair();
    const admin = org.admin;
    assert.equal((await http(server.url, 'PUT', '/v1/org/key', { token: admin.token, json: { publicKey: toBase64Url(orgKeys.publicKey) } })).status, 200);
    const policy = utf8(JSON.stringify({ version: 1, totpRememberSeconds: 3600 }));
    assert.equal((await http(server.url, 'PUT', '/v1/org/policy', { token: admin.token, json: { document: signed(policy, orgKeys.secretKey) } })).status, 200);

    const noah = await org.addUser('noah');
    const phone = await noah.linkDevice();
    const next = await enableTotp(server, noah);
    assert.equal((await loginReply(server.url, noah.devices[0]!.keys)).body.error?.code, 'totp_required', 'not before a code was given');
    assert.equal((await loginReply(server.url, noah.devices[0]!.keys, next())).status, 200);
    const renewed = await loginReply(server.url, noah.devices[0]!.keys);
    assert.equal(renewed.status, 200, 'remembered for the policy\'s window');
    assert.equal(renewed.body.secondFactor, false, 'a remembered login is not a TOTP-verified session');
    // a device approved minutes ago may finish enrolling without a code: its approval was a logged-in device's act
    assert.equal((await loginReply(server.url, phone.keys)).status, 200);

    for (let i = 0; i < 5; i++) await loginReply(server.url, noah.devices[0]!.keys, '000000');
    assert.equal((await loginReply(server.url, noah.devices[0]!.keys)).body.error?.code, 'locked_out', 'a lock-out overrides the window');
  });

});
