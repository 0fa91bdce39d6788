// Account lifecycle, device linking/recovery/revocation, TOTP, org key and policy, admin API.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateSync } from 'otplib';
import { randomBytes, signingKeyPair, toBase64Url, utf8 } from '../../../core/crypto/sodium.ts';
import { deviceIdFor } from '../../../server/ids.ts';
import { parseInviteLink } from '../../../core/relay/invite-link.ts';
import { CLOSE_REVOKED, CLOSE_SUSPENDED } from '../../../server/ws/hub.ts';
import { createOrg, http, login, loginReply, signed, startTestServer, TestUser, WsClient } from '../../support/server-client.ts';

describe('accounts, devices and admin', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let org: Awaited<ReturnType<typeof createOrg>>;

  before(async () => {
    server = await startTestServer();
    org = await createOrg(server);
  });
  after(() => server.close());

  it('signs up with a single-use invite, logs in by signing a challenge, and finds users by name', async () => {
    const invite = await http<{ code: string; link: string }>(server.url, 'POST', '/v1/admin/invites', { token: org.admin.token, json: {} });
    assert.equal(invite.status, 201);
    assert.equal(parseInviteLink(invite.body.link).code, invite.body.code);
    const dora = await TestUser.signUp(server.url, 'dora', invite.body.code);
    const me = await http(server.url, 'GET', '/v1/me', { token: dora.token });
    assert.equal(me.body.username, 'dora');
    assert.equal(me.body.role, 'member');
    // The invite is spent, and the username is unique.
    await assert.rejects(TestUser.signUp(server.url, 'dora2', invite.body.code), /invite_invalid/);
    const second = await http<{ code: string }>(server.url, 'POST', '/v1/admin/invites', { token: org.admin.token, json: {} });
    await assert.rejects(TestUser.signUp(server.url, 'dora', second.body.code), /username_taken/);
    const found = await http(server.url, 'GET', '/v1/directory/dora', { token: org.admin.token });
    assert.deepEqual(found.body, { accountId: dora.accountId, username: 'dora', accountPublicKey: toBase64Url(dora.accountKeys.publicKey) });
    assert.equal((await http(server.url, 'GET', '/v1/directory/nobody', { token: org.admin.token })).status, 404);
  });

  it('refuses a certificate or device list not signed by the account key', async () => {
    const invite = await http<{ code: string }>(server.url, 'POST', '/v1/admin/invites', { token: org.admin.token, json: {} });
    const accountKeys = signingKeyPair();
    const deviceKeys = signingKeyPair();
    const forger = signingKeyPair();
    const reply = await http(server.url, 'POST', '/v1/accounts', {
      json: {
        inviteCode: invite.body.code, username: 'forged', accountPublicKey: toBase64Url(accountKeys.publicKey),
        device: { signingPublicKey: toBase64Url(deviceKeys.publicKey), certificate: signed(utf8('cert'), forger.secretKey) },
        deviceList: signed(utf8('list'), accountKeys.secretKey), deviceListVersion: 1,
      },
    });
    assert.equal(reply.status, 400);
    assert.equal(reply.body.error?.code, 'bad_signature');
    // The invite was not consumed by the refused attempt.
    await TestUser.signUp(server.url, 'forged', invite.body.code);
  });

  it('refuses logins with a wrong signature or a spent challenge, and locks TOTP guessing out with backoff', async () => {
    const user = await org.addUser('erin');
    const device = user.devices[0]!;
    const challenge = await http<{ challenge: string }>(server.url, 'POST', '/v1/auth/challenge', { json: { deviceId: device.deviceId } });
    const wrong = await http(server.url, 'POST', '/v1/auth/session', {
      json: { deviceId: device.deviceId, challenge: challenge.body.challenge, signature: toBase64Url(randomBytes(64)) },
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error?.code, 'bad_signature');
    const spent = await http(server.url, 'POST', '/v1/auth/session', {
      json: { deviceId: device.deviceId, challenge: challenge.body.challenge, signature: toBase64Url(randomBytes(64)) },
    });
    assert.equal(spent.status, 401, 'a challenge is single-use, even after a failure');
    assert.equal((await loginReply(server.url, device.keys)).status, 200, 'a fresh challenge works');

    const begin = await http<{ secret: string }>(server.url, 'POST', '/v1/account/totp/begin', { token: user.token });
    await http(server.url, 'POST', '/v1/account/totp/confirm', { token: user.token, json: { code: generateSync({ secret: begin.body.secret }) } });
    const good = generateSync({ secret: begin.body.secret });
    const wrongCode = good === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) assert.equal((await loginReply(server.url, device.keys, wrongCode)).status, 401);
    const locked = await loginReply(server.url, device.keys, good);
    assert.equal(locked.status, 429, 'even the right code is refused while locked out');
    assert.equal(locked.body.error?.code, 'locked_out');
    assert.equal((await loginReply(server.url, device.keys)).body.error?.code, 'locked_out', 'nor is a login without a code');
  });

  it('keeps a new device pending until an existing device approves it, then delivers to it', async () => {
    const frank = await org.addUser('frank');
    const keys = signingKeyPair();
    const pending = await http<{ deviceId: string }>(server.url, 'POST', '/v1/devices/pending', {
      json: { username: 'frank', signingPublicKey: toBase64Url(keys.publicKey) },
    });
    assert.equal(pending.status, 201);
    assert.equal(pending.body.deviceId, deviceIdFor(keys.publicKey));
    const early = await loginReply(server.url, keys);
    assert.equal(early.status, 403);
    assert.equal(early.body.error?.code, 'device_pending');
    const listed = await http<{ devices: { deviceId: string; status: string }[] }>(server.url, 'GET', `/v1/accounts/${frank.accountId}/devices`, { token: frank.token });
    assert.equal(listed.body.devices.find((d) => d.deviceId === pending.body.deviceId)?.status, 'pending');
    // Another account cannot approve it.
    const intruder = await http(server.url, 'POST', `/v1/devices/${pending.body.deviceId}/approve`, {
      token: org.admin.token, json: { certificate: frank.certificate(keys), ...frank.nextDeviceList([frank.deviceId, pending.body.deviceId]) },
    });
    assert.equal(intruder.status, 404);
    frank.deviceListVersion--; // that list was never stored
    const approved = await http(server.url, 'POST', `/v1/devices/${pending.body.deviceId}/approve`, {
      token: frank.token, json: { certificate: frank.certificate(keys), ...frank.nextDeviceList([frank.deviceId, pending.body.deviceId]) },
    });
    assert.equal(approved.status, 200);
    const token = await login(server.url, keys);
    assert.ok(token.length > 20);
  });

  it('publishes account-signed device lists with growing versions only, and tells every online device', async () => {
    const lena = await org.addUser('lena');
    const socket = await WsClient.connect(server.url, lena.token);
    const other = await WsClient.connect(server.url, org.admin.token);
    const next = lena.nextDeviceList([lena.deviceId]);
    assert.equal((await http(server.url, 'PUT', '/v1/accounts/me/device-list', { token: lena.token, json: next })).status, 200);
    await socket.waitFor(() => socket.frames.find((f) => f.t === 'event' && f.kind === 'device_list'));
    // another account's device learns too: it may be about to encrypt to Lena's devices
    await other.waitFor(() => other.frames.find((f) => f.t === 'event' && f.kind === 'device_list' && f.account === lena.accountId));
    await other.close();
    const replay = await http(server.url, 'PUT', '/v1/accounts/me/device-list', { token: lena.token, json: next });
    assert.equal(replay.body.error?.code, 'stale_device_list', 'an old list cannot be replayed');
    const forged = { deviceList: signed(utf8('{}'), signingKeyPair().secretKey), deviceListVersion: 99 };
    assert.equal((await http(server.url, 'PUT', '/v1/accounts/me/device-list', { token: lena.token, json: forged })).body.error?.code, 'bad_signature');
    const served = await http<{ deviceList: { data: string }; deviceListVersion: number }>(server.url, 'GET', `/v1/accounts/${lena.accountId}/devices`, { token: org.admin.token });
    assert.deepEqual([served.body.deviceList.data, served.body.deviceListVersion], [next.deviceList.data, next.deviceListVersion]);
    await socket.close();
  });

  it('approves a pending device with the recovery key alone', async () => {
    const gina = await org.addUser('gina');
    const keys = signingKeyPair();
    const deviceId = deviceIdFor(keys.publicKey);
    await http(server.url, 'POST', '/v1/devices/pending', { json: { username: 'gina', signingPublicKey: toBase64Url(keys.publicKey) } });
    const challenge = await http<{ challenge: string }>(server.url, 'POST', '/v1/auth/challenge', { json: { deviceId } });
    const badSig = await http(server.url, 'POST', `/v1/devices/${deviceId}/recover`, {
      json: {
        challenge: challenge.body.challenge, signature: toBase64Url(randomBytes(64)),
        certificate: gina.certificate(keys), deviceList: signed(utf8('v2'), gina.accountKeys.secretKey), deviceListVersion: 2,
      },
    });
    assert.equal(badSig.status, 401);
    const fresh = await http<{ challenge: string }>(server.url, 'POST', '/v1/auth/challenge', { json: { deviceId } });
    const ok = await http(server.url, 'POST', `/v1/devices/${deviceId}/recover`, {
      json: {
        challenge: fresh.body.challenge, signature: gina.recoverySignature(fresh.body.challenge, deviceId),
        certificate: gina.certificate(keys), ...gina.nextDeviceList([gina.deviceId, deviceId]),
      },
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.ok(await login(server.url, keys));
  });

  it('revoking a device closes its socket, ends its sessions and stops delivery at once', async () => {
    const hank = await org.addUser('hank');
    const second = await hank.linkDevice();
    const sender = await org.addUser('ivy');
    const ivy = await WsClient.connect(server.url, sender.token);
    // a channel with hank in it, used once before the revocation (so the relay has worked out its devices)
    const channel = await http<{ channelId: string }>(server.url, 'POST', '/v1/channels', { token: sender.token, json: { name: toBase64Url(utf8('c')) } });
    const channelId = channel.body.channelId;
    await http(server.url, 'POST', `/v1/channels/${channelId}/members`, { token: sender.token, json: { accountIds: [hank.accountId] } });
    assert.equal((await ivy.sendToChannel(channelId, utf8('channel before revocation'))).t, 'sent');
    await ivy.sendToDevices([{ device: second.deviceId, body: utf8('queued before revocation') }]);
    const socket = await WsClient.connect(server.url, second.token);
    await socket.waitFor(() => socket.deliveries.some((d) => Buffer.from(d.body).toString() === 'queued before revocation'));
    const revoked = await http(server.url, 'POST', `/v1/devices/${second.deviceId}/revoke`, {
      token: hank.token, json: hank.nextDeviceList([hank.deviceId]),
    });
    assert.equal(revoked.status, 200);
    assert.equal(await socket.waitForClose(), CLOSE_REVOKED);
    assert.equal((await http(server.url, 'GET', '/v1/me', { token: second.token })).status, 401);
    const refused = await ivy.sendToDevices([{ device: second.deviceId, body: utf8('after') }]);
    assert.equal(refused.t === 'error' && refused.code, 'stale_devices');
    assert.equal((await ivy.sendToChannel(channelId, utf8('channel after revocation'))).t, 'sent');
    assert.equal(server.store.pendingFor(second.deviceId, 0, Date.now(), 10).length, 0, 'its queue is gone, and channel sends skip it');
    assert.equal((await loginReply(server.url, second.keys)).body.error?.code, 'device_revoked');
    await ivy.close();
  });

  it('enrols TOTP, marks TOTP-verified sessions, and enforces it for admin actions when the signed policy says so', async () => {
    const admin = org.admin;
    const begin = await http<{ secret: string; uri: string }>(server.url, 'POST', '/v1/account/totp/begin', { token: admin.token });
    assert.match(begin.body.uri, /^otpauth:\/\/totp\//);
    assert.equal((await http(server.url, 'POST', '/v1/account/totp/confirm', { token: admin.token, json: { code: '000000' } })).status, 400);
    // Each code is accepted once: confirm with the previous step's code (within the drift window), log in with
    // the current one, and later use the next one.
    const at = (offsetSteps: number) => generateSync({ secret: begin.body.secret, epoch: Math.floor(Date.now() / 1000) + offsetSteps * 30 });
    const confirm = await http(server.url, 'POST', '/v1/account/totp/confirm', { token: admin.token, json: { code: at(-1) } });
    assert.equal(confirm.status, 200);
    const badTotp = await loginReply(server.url, admin.devices[0]!.keys, '123456');
    assert.equal(badTotp.status, 401);
    const totpToken = await loginReply(server.url, admin.devices[0]!.keys, at(0));
    assert.equal(totpToken.body.secondFactor, true);
    const replayed = await loginReply(server.url, admin.devices[0]!.keys, at(0));
    assert.equal(replayed.body.error?.code, 'bad_totp', 'a TOTP code is accepted only once');

    // Register the org key, then publish a policy requiring TOTP for admin actions.
    const orgKeys = signingKeyPair();
    assert.equal((await http(server.url, 'PUT', '/v1/org/key', { token: admin.token, json: { publicKey: toBase64Url(orgKeys.publicKey) } })).status, 200);
    assert.equal((await http(server.url, 'PUT', '/v1/org/key', { token: admin.token, json: { publicKey: toBase64Url(signingKeyPair().publicKey) } })).status, 409,
      'the org key is set once');
    const policy = utf8(JSON.stringify({ version: 1, requireTotpForAdmin: true, maxExpireSeconds: 86400, linkPreviews: false }));
    const forged = await http(server.url, 'PUT', '/v1/org/policy', { token: admin.token, json: { document: signed(policy, signingKeyPair().secretKey) } });
    assert.equal(forged.status, 400, 'a policy not signed by the org key is refused');
    const garbage = await http(server.url, 'PUT', '/v1/org/policy', { token: admin.token, json: { document: signed(utf8('not json'), orgKeys.secretKey) } });
    assert.equal(garbage.body.error?.code, 'bad_policy');
    const published = await http(server.url, 'PUT', '/v1/org/policy', { token: admin.token, json: { document: signed(policy, orgKeys.secretKey) } });
    assert.equal(published.status, 200);
    const served = await http<{ policy: { version: number; document: { data: string } }; orgKey: string }>(server.url, 'GET', '/v1/org', { token: admin.token });
    assert.equal(served.body.policy.document.data, toBase64Url(policy), 'served byte-for-byte');
    assert.equal(served.body.orgKey, toBase64Url(orgKeys.publicKey));
    // The policy's maxExpireSeconds: an envelope asking to live longer is refused; one within the clock allowance
    // (a sender's clock a minute ahead) is taken and kept no longer than the cap.
    const socket = await WsClient.connect(server.url, admin.token);
    const far = await socket.sendToDevices([{ device: org.admin.deviceId, body: utf8('x') }], randomBytes(16), Date.now() + 10 * 86_400_000);
    assert.equal(far.t === 'error' && far.code, 'over_policy');
    const capped = await socket.sendToDevices([{ device: org.admin.deviceId, body: utf8('x') }], randomBytes(16), Date.now() + 86_400_000 + 60_000);
    assert.equal(capped.t, 'sent');
    const queued = await socket.waitFor(() => socket.deliveries[0]);
    assert.ok(queued.expiresAt <= Date.now() + 86_400_000, 'expiry capped at one day by the policy');
    await socket.ack([queued.seq]);
    await socket.close();
    // Invites now carry the org key fingerprint.
    const withOrg = await http<{ link: string }>(server.url, 'POST', '/v1/admin/invites', { token: totpToken.body.token, json: {} });
    assert.ok(parseInviteLink(withOrg.body.link).org);

    const plain = await http(server.url, 'GET', '/v1/admin/users', { token: admin.token });
    assert.equal(plain.status, 403);
    assert.equal(plain.body.error?.code, 'totp_required');
    const users = await http<{ users: { username: string }[] }>(server.url, 'GET', '/v1/admin/users', { token: totpToken.body.token });
    assert.equal(users.status, 200);
    assert.ok(users.body.users.some((u) => u.username === 'dora'));
    const stale = await http(server.url, 'PUT', '/v1/org/policy', { token: totpToken.body.token, json: { document: signed(policy, orgKeys.secretKey) } });
    assert.equal(stale.body.error?.code, 'stale_policy', 'a policy cannot be rolled back or replayed');

    // Suspension: sockets close, logins fail; the audit log records it.
    // Invites now need the TOTP-verified session too.
    const invite = await http<{ code: string }>(server.url, 'POST', '/v1/admin/invites', { token: totpToken.body.token, json: {} });
    const jack = await TestUser.signUp(server.url, 'jack', invite.body.code);
    const jackSocket = await WsClient.connect(server.url, jack.token);
    const suspended = await http(server.url, 'POST', `/v1/admin/users/${jack.accountId}/suspend`, { token: totpToken.body.token, json: { suspended: true } });
    assert.equal(suspended.status, 200);
    assert.equal(await jackSocket.waitForClose(), CLOSE_SUSPENDED);
    assert.equal((await loginReply(server.url, jack.devices[0]!.keys)).body.error?.code, 'suspended');
    const audit = await http<{ entries: { action: string; target: string | null }[] }>(server.url, 'GET', '/v1/admin/audit', { token: totpToken.body.token });
    const actions = audit.body.entries.map((e) => e.action);
    for (const action of ['org.key_registered', 'org.policy_published', 'invite.created', 'account.suspended']) assert.ok(actions.includes(action), action);
    assert.equal(audit.body.entries.find((e) => e.action === 'account.suspended')?.target, jack.accountId);
  });

  it('gives non-admins no admin API', async () => {
    const kim = await TestUser.signUp(server.url, 'kim', (await http<{ code: string }>(server.url, 'POST', '/v1/admin/invites', {
      token: await login(server.url, org.admin.devices[0]!.keys,
        generateSync({ secret: server.store.getAccount(org.admin.accountId)!.totpSecret!, epoch: Math.floor(Date.now() / 1000) + 30 })), json: {},
    })).body.code);
    for (const [method, route] of [['GET', '/v1/admin/users'], ['POST', '/v1/admin/invites'], ['GET', '/v1/admin/audit']] as const) {
      const reply = await http(server.url, method, route, { token: kim.token, ...(method === 'POST' ? { json: {} } : {}) });
      assert.equal(reply.status, 403, route);
      assert.equal(reply.body.error?.code, 'not_admin');
    }
  });
});
