// A relay restarted at another address does not strand its clients: a device moves with any invite link of the
// same organisation, and only to a relay that holds the same org key and knows the device. Real engines, a real
// relay moved to a new port with its data, and a second relay of another organisation as the impostor.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sha256, signingKeyPair, toBase64Url } from '../../../core/crypto/sodium.ts';
import { formatInviteLink } from '../../../core/relay/invite-link.ts';
import { idOf, startOrg, type TestEngine, type TestOrg } from '../../support/engines.ts';
import { startTestServer, tempDir } from '../../support/server-client.ts';

describe('engine: the relay moves to a new address', () => {
  const dataDir = tempDir();
  const orgKey = signingKeyPair().publicKey;
  let org: TestOrg;
  let bob: TestEngine;
  let carol: TestEngine;
  const servers: Awaited<ReturnType<typeof startTestServer>>[] = [];

  before(async () => {
    org = await startOrg({}, { dataDir });
    org.server.store.setMetaOnce('org_key', toBase64Url(orgKey)); // as an admin's PUT /v1/org/key does
    bob = await org.addUser('bob');
    carol = await org.addUser('carol');
  });
  after(async () => {
    await org.close();
    for (const server of servers) await server.close();
  });

  const linkTo = (server: string, key: Uint8Array) => formatInviteLink({ server, pin: null, org: toBase64Url(sha256(key)), code: 'A'.repeat(43) });

  it('moves with a link of the same organisation, refuses another organisation\'s relay, and talks again after the move', async () => {
    await org.server.close();
    const moved = await startTestServer({ dataDir });
    servers.push(moved);
    const impostor = await startTestServer();
    servers.push(impostor);
    impostor.store.setMetaOnce('org_key', toBase64Url(signingKeyPair().publicKey));

    const code = (expected: string) => (e: { code?: string }) => e.code === expected;
    await assert.rejects(bob.engine.api.call('account.moveRelay', { link: linkTo(moved.url, signingKeyPair().publicKey) }), code('INVALID'), 'another org\'s fingerprint');
    await assert.rejects(bob.engine.api.call('account.moveRelay', { link: linkTo(impostor.url, orgKey) }), code('HOSTILE_SERVER'), 'a relay with another org key');
    const copycat = await startTestServer(); // presents this org's (public) key, but has never seen bob's device
    servers.push(copycat);
    copycat.store.setMetaOnce('org_key', toBase64Url(orgKey));
    await assert.rejects(bob.engine.api.call('account.moveRelay', { link: linkTo(copycat.url, orgKey) }), code('HOSTILE_SERVER'), 'a relay that does not know the device');
    assert.notEqual((await bob.engine.api.call('account.whoami', {})).server, impostor.url, 'nothing changed');

    for (const e of [bob, carol]) assert.deepEqual(await e.engine.api.call('account.moveRelay', { link: linkTo(moved.url, orgKey) }), { server: moved.url });
    bob = await bob.reopen();
    carol = await carol.reopen();
    assert.equal((await bob.engine.api.call('account.whoami', {})).server, moved.url);
    const sent = await bob.engine.api.call('messages.send', { conversation: await idOf(bob.engine.api, '@carol'), text: 'hello from the new address' });
    await carol.waitFor(() => carol.received().find((m) => m.id === sent.id), 20_000, 'the message through the moved relay');
  });
});
