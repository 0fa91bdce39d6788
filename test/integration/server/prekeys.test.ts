// Prekeys on a real relay: a claimer that tries to drain a device is refused with 429 and Retry-After, the
// last-resort keys of both kinds have their own slots (handed out when no one-time key is left, never deleted),
// and a device learns from the relay when either kind runs low.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, toBase64Url } from '../../../core/crypto/sodium.ts';
import { CLAIM_LIMITS } from '../../../server/claim-limits.ts';
import { createOrg, http, startTestServer, WsClient, type TestUser } from '../../support/server-client.ts';

type Key = { keyId: number; data: string };
type Bundle = { deviceId: string; signedPrekey: Key | null; oneTimePrekey: Key | null; kemPrekey: Key | null };
type Stock = { oneTimePrekeys: number; kemPrekeys: number; signedPrekeyId: number | null; lastResortPrekeyId: number | null; kemLastResortPrekeyId: number | null };

const key = (keyId: number, bytes: number): Key => ({ keyId, data: toBase64Url(randomBytes(bytes)) });
const batch = (from: number, count: number, bytes: number) => Array.from({ length: count }, (_, i) => key(from + i, bytes));

describe('relay prekeys', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let org: Awaited<ReturnType<typeof createOrg>>;
  let dana: TestUser;
  const claimers: TestUser[] = [];

  before(async () => {
    server = await startTestServer();
    org = await createOrg(server);
    dana = await org.addUser('dana');
    for (const name of ['mallory', 'mel', 'moe']) claimers.push(await org.addUser(name));
  });
  after(() => server.close());

  const upload = (user: TestUser, json: unknown) => http<Stock>(server.url, 'PUT', '/v1/prekeys', { token: user.token, json });
  const claim = (by: TestUser, of: TestUser) => http<{ bundles: Bundle[] }>(server.url, 'POST', `/v1/accounts/${of.accountId}/prekeys/claim`, { token: by.token, json: {} });
  const stock = async (user: TestUser) => (await http<Stock>(server.url, 'GET', '/v1/prekeys/count', { token: user.token })).body;

  it('refuses a claimer who drains a device (429 with Retry-After), takes nothing then, and leaves other claimers alone', async () => {
    const target = await org.addUser('target');
    assert.equal((await upload(target, {
      signedPrekey: key(1, 96), lastResortPrekey: key(2, 32), kemLastResortPrekey: key(3, 1248),
      oneTimePrekeys: batch(10, 100, 32), kemPrekeys: batch(200, 100, 1248),
    })).status, 200);
    const [mallory, mel] = claimers as [TestUser, TestUser];
    for (let i = 0; i < CLAIM_LIMITS.perTargetDevice.burst; i++) assert.equal((await claim(mallory, target)).status, 200, `claim ${i}`);
    const refused = await fetch(`${server.url}/v1/accounts/${target.accountId}/prekeys/claim`, {
      method: 'POST', headers: { authorization: `Bearer ${mallory.token}`, 'content-type': 'application/json' }, body: '{}',
    });
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1, 'Retry-After says when to come back');
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'rate_limited');
    const left = CLAIM_LIMITS.perTargetDevice.burst;
    assert.deepEqual([(await stock(target)).oneTimePrekeys, (await stock(target)).kemPrekeys], [100 - left, 100 - left], 'the refused claim took nothing');
    assert.equal((await claim(mel, target)).status, 200, 'another account is not limited by mallory');
  });

  it('keeps the last-resort keys in their own slots: handed out once the one-time keys are gone, never deleted, replaced by an upload', async () => {
    await upload(dana, {
      signedPrekey: key(1, 96), lastResortPrekey: key(2, 32), kemLastResortPrekey: key(3, 1248),
      oneTimePrekeys: batch(10, 2, 32), kemPrekeys: batch(20, 1, 1248),
    });
    const handedOut: [number | undefined, number | undefined][] = [];
    for (const by of claimers) {
      const reply = await claim(by, dana);
      const bundle = reply.body.bundles[0]!;
      handedOut.push([bundle.oneTimePrekey?.keyId, bundle.kemPrekey?.keyId]);
    }
    assert.deepEqual(handedOut, [[10, 20], [11, 3], [2, 3]], 'one-time keys first, then the last-resort key of that kind');
    assert.deepEqual(await stock(dana), { oneTimePrekeys: 0, kemPrekeys: 0, signedPrekeyId: 1, lastResortPrekeyId: 2, kemLastResortPrekeyId: 3 }, 'the last-resort keys stay');
    const again = await claim(claimers[0]!, dana);
    assert.equal(again.body.bundles[0]!.oneTimePrekey!.keyId, 2, 'and keep being handed out');
    // the device rotates them: the slots hold the new ones
    await upload(dana, { lastResortPrekey: key(4, 32), kemLastResortPrekey: key(5, 1248), oneTimePrekeys: [] });
    assert.deepEqual(await stock(dana), { oneTimePrekeys: 0, kemPrekeys: 0, signedPrekeyId: 1, lastResortPrekeyId: 4, kemLastResortPrekeyId: 5 });
  });

  it('tells a device when either kind of one-time key runs low, on connect and when a claim leaves few', async () => {
    const low = await org.addUser('low');
    await upload(low, { signedPrekey: key(1, 96), oneTimePrekeys: batch(10, 50, 32), kemPrekeys: batch(100, 11, 1248) });
    const socket = await WsClient.connect(server.url, low.token);
    try {
      await socket.waitFor(() => socket.frames.find((f) => f.t === 'event' && f.kind === 'queue_empty')); // after the connect-time check
      assert.equal(socket.frames.some((f) => f.t === 'event' && f.kind === 'prekeys_low'), false, 'eleven of the scarcer kind are enough');
      await claim(claimers[1]!, low);
      await claim(claimers[2]!, low);
      const event = await socket.waitFor(() => socket.frames.find((f) => f.t === 'event' && f.kind === 'prekeys_low'));
      assert.ok(event.t === 'event' && event.kind === 'prekeys_low' && event.remaining === 9, 'the lower of the two counts');
    } finally {
      await socket.close();
    }
    const reconnected = await WsClient.connect(server.url, low.token);
    try {
      await reconnected.waitFor(() => reconnected.frames.find((f) => f.t === 'event' && f.kind === 'prekeys_low'));
    } finally {
      await reconnected.close();
    }
  });

  it('refuses, whole, an upload past the per-device stock limit; a full batch of ML-KEM keys fits in one request', async () => {
    const full = await org.addUser('full');
    const kem = (from: number) => batch(from, 100, 1248);
    for (let i = 0; i < server.config.maxOneTimePrekeys / 100; i++) assert.equal((await upload(full, { oneTimePrekeys: [], kemPrekeys: kem(1000 * (i + 1)) })).status, 200);
    const before = await stock(full);
    const over = await upload(full, { lastResortPrekey: key(7, 32), oneTimePrekeys: batch(1, 5, 32), kemPrekeys: kem(99_000).slice(0, 1) });
    assert.equal(over.status, 409);
    assert.equal(over.body.error?.code, 'too_many_prekeys');
    assert.deepEqual(await stock(full), before, 'nothing of the refused upload was kept');
    const replaced = await upload(full, { oneTimePrekeys: batch(1, 5, 32), kemPrekeys: kem(99_000), replaceOneTime: true });
    assert.equal(replaced.status, 200);
    assert.deepEqual([replaced.body.oneTimePrekeys, replaced.body.kemPrekeys], [5, 100]);
  });
});
