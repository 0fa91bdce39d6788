// The relay's side of a join by retention policy: while the policy it stored (signed by the org key) names an archive
// with retention on, that account, and no other, may list every channel, read its log and join it; off again, it is
// an ordinary account. (Members check the join's entry themselves: test/integration/engine/retention-join.test.ts.)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sign, signingKeyPair, toBase64Url, utf8 } from '../../../core/crypto/sodium.ts';
import { createOrg, http, startTestServer, type TestUser } from '../../support/server-client.ts';

describe('relay: the compliance archive the signed policy names', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let admin: TestUser;
  let alice: TestUser;
  let bob: TestUser;
  let archive: TestUser;
  const orgKeys = signingKeyPair();
  let version = 0;
  const publish = async (document: object) => {
    const data = utf8(JSON.stringify({ version: ++version, ...document }));
    const reply = await http(server.url, 'PUT', '/v1/org/policy', { token: admin.token, json: { document: { data: toBase64Url(data), signature: toBase64Url(sign(data, orgKeys.secretKey)) } } });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
  };
  const closedChannel = async () => (await http<{ channelId: string }>(server.url, 'POST', '/v1/channels', { token: alice.token, json: { name: toBase64Url(utf8('sealed')) } })).body.channelId;
  const listed = async (user: TestUser, channelId: string) =>
    (await http<{ channels: { channelId: string; role: string | null; createdAt: number }[] }>(server.url, 'GET', '/v1/channels', { token: user.token })).body.channels.find((c) => c.channelId === channelId);
  const log = (user: TestUser, channelId: string) => http(server.url, 'GET', `/v1/channels/${channelId}/log`, { token: user.token });
  const join = (user: TestUser, channelId: string) => http(server.url, 'POST', `/v1/channels/${channelId}/join`, { token: user.token, json: {} });

  before(async () => {
    server = await startTestServer();
    const org = await createOrg(server);
    admin = org.admin;
    alice = await org.addUser('alice');
    bob = await org.addUser('bob');
    archive = await org.addUser('archive');
    assert.equal((await http(server.url, 'PUT', '/v1/org/key', { token: admin.token, json: { publicKey: toBase64Url(orgKeys.publicKey) } })).status, 200);
  });
  after(() => server.close());

  it('treats the archive as anyone while no policy names it', async () => {
    await publish({ retention: false, archiveAccount: 'archive' });
    const channelId = await closedChannel();
    assert.equal(await listed(archive, channelId), undefined);
    assert.equal((await log(archive, channelId)).status, 404);
    assert.equal((await join(archive, channelId)).status, 404);
  });

  it('lets the archive named by a retention-on policy list, read and join any channel, and no one else', async () => {
    await publish({ retention: true, archiveAccount: 'archive' });
    const channelId = await closedChannel();
    assert.deepEqual(await listed(archive, channelId), { channelId, name: toBase64Url(utf8('sealed')), topic: '', open: false, createdAt: (await listed(alice, channelId))!.createdAt, role: null });
    assert.equal((await log(archive, channelId)).status, 200);
    assert.equal(await listed(bob, channelId), undefined, 'bob is not the archive');
    assert.equal((await join(bob, channelId)).status, 404);
    const joined = await join(archive, channelId);
    assert.equal(joined.status, 200);
    assert.ok((joined.body.members as { accountId: string }[]).some((m) => m.accountId === archive.accountId));
    assert.equal((await listed(archive, channelId))!.role, 'member');

    await publish({ retention: false, archiveAccount: 'archive' });
    const later = await closedChannel();
    assert.equal(await listed(archive, later), undefined, 'off again: an ordinary account');
    assert.equal((await join(archive, later)).status, 404);
  });
});
