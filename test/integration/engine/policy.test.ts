// The org policy on the client: an admin signs it with the org key (registered on first use), every member
// verifies it under the key they pinned and keeps the highest version; a relay serving an unsigned, older or
// other-key policy is refused and the kept policy stays in force.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiError } from '../../../core/api/contract.ts';
import { sha256, sign, signingKeyPair, toBase64Url, utf8 } from '../../../core/crypto/sodium.ts';
import { startOrg, type TestEngine, type TestOrg } from '../../support/engines.ts';
import { startHostileRelay, type HostileRelay } from '../../support/hostile-relay.ts';

const code = (expected: string) => (error: unknown) => error instanceof ApiError && error.code === expected;

describe('org policy', () => {
  let org: TestOrg;
  let relay: HostileRelay;
  let bob: TestEngine;

  before(async () => {
    org = await startOrg({}, {}, async (url) => (relay = await startHostileRelay(url)));
    bob = await org.addUser('bob');
  });
  after(() => org.close());

  it('is none until an admin sets one; members cannot', async () => {
    assert.deepEqual(await bob.engine.api.call('policy.get', {}), { policy: { version: 0 }, org: null, canSign: false });
    await assert.rejects(bob.engine.api.call('policy.set', { maxExpireSeconds: 3600 }), code('FORBIDDEN'));
  });

  it('is signed by the admin, announced, verified and adopted by members (the org key pinned on first sight)', async () => {
    const set = await org.admin.engine.api.call('policy.set', { maxExpireSeconds: 7 * 86_400, maxBurnSeconds: 3600, requireTimer: true, defaultExpireSeconds: 86_400 });
    assert.deepEqual(set, { version: 1, maxExpireSeconds: 7 * 86_400, maxBurnSeconds: 3600, requireTimer: true, defaultExpireSeconds: 86_400 });
    const changed = await bob.waitFor(() => bob.events.find((e) => e.name === 'policy.changed'), 10_000, 'policy.changed');
    assert.deepEqual(changed.payload, set, 'the relay announced it and bob fetched and verified it');
    const got = await bob.engine.api.call('policy.get', {});
    assert.equal(got.policy.version, 1);
    assert.equal(got.canSign, false);
    assert.equal(got.org, (await org.admin.engine.api.call('policy.get', {})).org, 'bob pinned the key the admin registered');
    assert.equal((await org.admin.engine.api.call('policy.get', {})).canSign, true);
  });

  it('keeps fields it does not know and removes those set to null', async () => {
    const next = await org.admin.engine.api.call('policy.set', { requireTimer: null, maxBurnSeconds: 600 });
    assert.equal(next.version, 2);
    assert.equal(next.requireTimer, undefined);
    assert.equal(next.maxBurnSeconds, 600);
    await assert.rejects(org.admin.engine.api.call('policy.set', { defaultExpireSeconds: 30 * 86_400 }), code('INVALID'), 'a default longer than the maximum');
    await bob.waitFor(() => bob.events.some((e) => e.name === 'policy.changed' && (e.payload as { version: number }).version === 2), 10_000, 'version 2');
  });

  it('refuses a policy the relay forged, rolled back or signed with another key, and keeps version 2', async () => {
    const served = (document: { data: Uint8Array; signature: Uint8Array }, version: number) => (path: string, body: unknown) =>
      (path === '/v1/org' ? { ...(body as object), policy: { version, document: { data: toBase64Url(document.data), signature: toBase64Url(document.signature) } } } : body);
    const forgedData = utf8(JSON.stringify({ version: 9 }));
    const cases: [string, (path: string, body: unknown) => unknown][] = [
      ['unsigned', served({ data: forgedData, signature: new Uint8Array(64) }, 9)],
      ['signed by another key', served({ data: forgedData, signature: sign(forgedData, signingKeyPair().secretKey) }, 9)],
    ];
    for (const [what, rewrite] of cases) {
      relay.rewriteReply = rewrite;
      await assert.rejects(bob.engine.api.call('policy.get', {}), code('HOSTILE_SERVER'), what);
    }
    const other = signingKeyPair().publicKey;
    relay.rewriteReply = (path, body) => (path === '/v1/org' ? { ...(body as object), orgKey: toBase64Url(other), orgFingerprint: toBase64Url(sha256(other)) } : body);
    await assert.rejects(bob.engine.api.call('policy.get', {}), code('HOSTILE_SERVER'), 'another org key');
    relay.rewriteReply = (_path, body) => body;
    assert.equal((await bob.engine.api.call('policy.get', {})).policy.version, 2, 'the kept policy is still in force');
  });

  it('refuses a rollback to a version the org really signed, across a restart too', async () => {
    // capture version 2 as served, publish version 3, then serve version 2 again
    let v2: unknown = null;
    relay.rewriteReply = (path, body) => {
      if (path === '/v1/org') v2 ??= (body as { policy: unknown }).policy;
      return body;
    };
    await bob.engine.api.call('policy.get', {});
    await org.admin.engine.api.call('policy.set', { maxExpireSeconds: 86_400, defaultExpireSeconds: null });
    await bob.waitFor(() => bob.events.some((e) => e.name === 'policy.changed' && (e.payload as { version: number }).version === 3), 10_000, 'version 3');
    relay.rewriteReply = (path, body) => (path === '/v1/org' ? { ...(body as object), policy: v2 } : body);
    await assert.rejects(bob.engine.api.call('policy.get', {}), code('HOSTILE_SERVER'));
    bob = await bob.reopen();
    await assert.rejects(bob.engine.api.call('policy.get', {}), code('HOSTILE_SERVER'), 'the highest version seen survives a restart');
    relay.rewriteReply = (_path, body) => body;
    assert.equal((await bob.engine.api.call('policy.get', {})).policy.maxExpireSeconds, 86_400);
  });
});
