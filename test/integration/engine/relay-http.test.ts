// The engine's HTTP client against a real relay on loopback (plain and pinned TLS), and against a hostile one that
// answers with wrong shapes, oversized or broken bodies, or not at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { randomBytes, sha256, sign, signingKeyPair, toBase64Url, utf8 } from '../../../core/crypto/sodium.ts';
import type { SigningKeyPair } from '../../../core/crypto/sodium.ts';
import { deviceIdFor } from '../../../core/protocol/ids.ts';
import { parseInviteLink } from '../../../core/relay/invite-link.ts';
import { EngineError } from '../../../core/engine/errors.ts';
import { RelayError, RelayHttp, trustEndpoint, UntrustedRelayError } from '../../../core/engine/relay-http.ts';
import type { RelayEndpoint, SignedBlob } from '../../../core/engine/relay-http.ts';
import { createOrg, http as rawHttp, startTestServer } from '../../support/server-client.ts';

const blob = (text: string, keys: SigningKeyPair): SignedBlob => {
  const data = utf8(text);
  return { data, signature: sign(data, keys.secretKey) };
};

const isRelayError = (code: string, status?: number) => (error: unknown) => {
  assert.ok(error instanceof RelayError, `expected a RelayError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  if (status !== undefined) assert.equal(error.status, status);
  return true;
};

const isUntrusted = (relay: string) => (error: unknown) => {
  assert.ok(error instanceof UntrustedRelayError, `expected an UntrustedRelayError, got ${String(error)}`);
  assert.equal(error.code, 'UNTRUSTED_RELAY');
  assert.equal(error.relay, relay);
  return true;
};

function client(t: { after(fn: () => void): void }, endpoint: RelayEndpoint, options?: { timeoutMs?: number; maxReplyBytes?: number }): RelayHttp {
  const relay = new RelayHttp(endpoint, options);
  t.after(() => relay.close());
  return relay;
}

test('logs in on demand, shares one login between concurrent calls, and logs in again when the token is refused', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const { admin } = await createOrg(server);
  const relay = client(t, await trustEndpoint(server.url, null));
  await assert.rejects(relay.me(), isRelayError('no_device'));

  relay.setDevice(admin.deviceId, admin.devices[0]!.keys.secretKey);
  let logins = 0;
  const login = relay.login.bind(relay);
  relay.login = (totp?: string) => {
    logins++;
    return login(totp);
  };
  const [me, stock] = await Promise.all([relay.me(), relay.prekeyStock(), relay.org()]);
  assert.equal(logins, 1);
  assert.deepEqual({ ...me }, { accountId: admin.accountId, username: 'admin', role: 'admin', deviceId: admin.deviceId, totpEnabled: false, secondFactor: false });
  assert.deepEqual(stock, { oneTime: 0, kemOneTime: 0, signedPrekeyId: null, lastResortId: null, kemLastResortId: null });

  // The relay forgets sessions past their lifetime; the next call is refused once, logs in and goes through.
  const first = await relay.token();
  await server.sweep(Date.now() + server.config.sessionTtlSeconds * 1000 + 60_000);
  assert.equal((await relay.me()).deviceId, admin.deviceId);
  assert.equal(logins, 2);
  const second = await relay.token();
  assert.notEqual(second, first);

  // A token someone else reports as refused is dropped only if it is still the current one.
  assert.equal(await relay.token(first), second);
  const third = await relay.token(second);
  assert.notEqual(third, second);
  assert.equal(logins, 3);
  relay.invalidateToken();
  assert.notEqual(await relay.token(), third);
  assert.equal(logins, 4);
});

test('every route round-trips its shapes through a real relay', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const { admin } = await createOrg(server);
  const endpoint = await trustEndpoint(server.url, null);
  const adminRelay = client(t, endpoint);
  adminRelay.setDevice(admin.deviceId, admin.devices[0]!.keys.secretKey);

  assert.deepEqual({ ...(await client(t, endpoint).serverInfo()) }, { product: 'wardroom', api: 1, pin: null, orgKey: null, turn: false });

  // Sign-up with an invite, then log in.
  const invite = await adminRelay.createInvite(false);
  assert.equal(parseInviteLink(invite.link).code, invite.code);
  assert.ok(invite.expiresAt > Date.now());
  const account = signingKeyPair();
  const laptopKeys = signingKeyPair();
  const laptopId = deviceIdFor(laptopKeys.publicKey);
  const carol = client(t, endpoint);
  const created = await carol.createAccount({
    inviteCode: invite.code, username: 'carol', accountPublicKey: account.publicKey, signingPublicKey: laptopKeys.publicKey,
    certificate: blob(`cert ${laptopId}`, account), deviceList: blob('list 1', account), deviceListVersion: 1,
  });
  assert.equal(created.deviceId, laptopId);
  assert.equal(created.role, 'member');
  carol.setDevice(laptopId, laptopKeys.secretKey);
  const session = await carol.login();
  assert.equal(session.accountId, created.accountId);
  assert.equal(session.secondFactor, false);
  assert.equal((await carol.me()).username, 'carol');

  // Directory and device lists.
  const entry = await adminRelay.directory('carol');
  assert.deepEqual(entry.accountPublicKey, account.publicKey);
  assert.equal(entry.accountId, created.accountId);
  await assert.rejects(adminRelay.directory('nobody'), isRelayError('no_such_user', 404));
  let devices = await adminRelay.accountDevices(created.accountId);
  assert.deepEqual(devices.accountPublicKey, account.publicKey);
  assert.deepEqual(devices.deviceList, blob('list 1', account));
  assert.equal(devices.deviceListVersion, 1);
  assert.equal(devices.devices.length, 1);
  assert.deepEqual(devices.devices[0]!.signingPublicKey, laptopKeys.publicKey);
  assert.deepEqual(devices.devices[0]!.certificate, blob(`cert ${laptopId}`, account));
  assert.equal(devices.devices[0]!.status, 'active');
  await carol.putDeviceList(blob('list 2', account), 2);
  await assert.rejects(carol.putDeviceList(blob('list 2 again', account), 2), isRelayError('stale_device_list', 409));
  assert.equal((await adminRelay.accountDevices(created.accountId)).deviceListVersion, 2);

  // A phone asks to join (the answer names no account) and the laptop approves it.
  const phoneKeys = signingKeyPair();
  const phone = client(t, endpoint);
  const pending = await phone.requestPendingDevice('carol', phoneKeys.publicKey);
  assert.equal(pending.deviceId, deviceIdFor(phoneKeys.publicKey));
  assert.deepEqual(Object.keys(pending).sort(), ['deviceId', 'expiresAt']);
  phone.setDevice(pending.deviceId, phoneKeys.secretKey);
  await assert.rejects(phone.me(), isRelayError('device_pending', 403));
  await carol.approveDevice(pending.deviceId, blob(`cert ${pending.deviceId}`, account), blob('list 3', account), 3);
  assert.equal((await phone.me()).deviceId, pending.deviceId);
  await assert.rejects(carol.approveDevice(pending.deviceId, blob('cert again', account), blob('list 3b', account), 4),
    (error) => error instanceof EngineError && error.code === 'NOT_FOUND', 'no longer waiting: a person can act on that');

  // A tablet is approved with the account key from the recovery kit, then revoked.
  const tabletKeys = signingKeyPair();
  const tablet = client(t, endpoint);
  const tabletId = (await tablet.requestPendingDevice('carol', tabletKeys.publicKey)).deviceId;
  const info = await tablet.recoveryInfo(tabletId, account.secretKey);
  assert.deepEqual({ ...info }, { accountId: created.accountId, accountPublicKey: account.publicKey, deviceList: blob('list 3', account), deviceListVersion: 3 });
  await assert.rejects(tablet.recoveryInfo(tabletId, signingKeyPair().secretKey), isRelayError('bad_signature', 401));
  await tablet.recoverDevice(tabletId, account.secretKey, blob(`cert ${tabletId}`, account), blob('list 4', account), 4);
  tablet.setDevice(tabletId, tabletKeys.secretKey);
  assert.equal((await tablet.me()).deviceId, tabletId);
  await carol.revokeDevice(tabletId, blob('list 5', account), 5);
  await assert.rejects(tablet.me(), isRelayError('device_revoked', 403));
  devices = await adminRelay.accountDevices(created.accountId);
  assert.deepEqual(devices.devices.map((d) => d.deviceId).sort(), [laptopId, pending.deviceId].sort());
  assert.equal(devices.deviceListVersion, 5);

  // Prekeys: more one-time keys of each kind than one request may carry, and the last-resort slots.
  const signedPrekey = { keyId: 1, data: randomBytes(96) };
  const oneTimePrekeys = Array.from({ length: 250 }, (_, i) => ({ keyId: 100 + i, data: randomBytes(32) }));
  const kemPrekeys = Array.from({ length: 150 }, (_, i) => ({ keyId: 1000 + i, data: randomBytes(1248) }));
  const lastResortPrekey = { keyId: 2, data: randomBytes(32) };
  const kemLastResortPrekey = { keyId: 3, data: randomBytes(1248) };
  const uploaded = { oneTime: 250, kemOneTime: 150, signedPrekeyId: 1, lastResortId: 2, kemLastResortId: 3 };
  assert.deepEqual(await carol.putPrekeys({ signedPrekey, lastResortPrekey, kemLastResortPrekey, oneTimePrekeys, kemPrekeys }), uploaded);
  assert.deepEqual(await carol.prekeyStock(), uploaded);
  const claim = await adminRelay.claimPrekeys(created.accountId, [laptopId]);
  assert.deepEqual(claim.accountPublicKey, account.publicKey);
  assert.equal(claim.bundles.length, 1);
  const bundle = claim.bundles[0]!;
  assert.deepEqual(bundle.signingPublicKey, laptopKeys.publicKey);
  assert.deepEqual(bundle.signedPrekey, signedPrekey);
  assert.ok(oneTimePrekeys.some((k) => k.keyId === bundle.oneTimePrekey!.keyId && Buffer.from(k.data).equals(bundle.oneTimePrekey!.data)));
  assert.ok(kemPrekeys.some((k) => k.keyId === bundle.kemPrekey!.keyId && Buffer.from(k.data).equals(bundle.kemPrekey!.data)));
  const all = await adminRelay.claimPrekeys(created.accountId);
  assert.deepEqual(all.bundles.find((b) => b.deviceId === pending.deviceId), {
    deviceId: pending.deviceId, signingPublicKey: phoneKeys.publicKey, signedPrekey: null, oneTimePrekey: null, kemPrekey: null,
  });
  assert.deepEqual(await carol.prekeyStock(), { ...uploaded, oneTime: 248, kemOneTime: 148 });
  // replacing the stock drops every one-time key of both kinds first
  assert.deepEqual(await carol.putPrekeys({ oneTimePrekeys: oneTimePrekeys.slice(0, 3), replaceOneTime: true }), { ...uploaded, oneTime: 3, kemOneTime: 0 });

  // Channels. Each change carries its signed log entry (opaque to the relay, checked by members), stored in order.
  const logEntry = (seq: number) => ({ seq, entry: utf8(`entry ${seq}`) });
  const openId = toBase64Url(randomBytes(16));
  const open = await carol.createChannel(utf8('general'), utf8('all hands'), true, openId, logEntry(0).entry);
  assert.deepEqual({ ...open, createdAt: 0 }, {
    channelId: openId, name: utf8('general'), topic: utf8('all hands'), open: true, createdAt: 0, role: 'owner',
  });
  await assert.rejects(carol.createChannel(utf8('again'), undefined, false, openId, logEntry(0).entry), isRelayError('channel_exists', 409));
  const closed = await carol.createChannel(utf8('secret'), undefined, undefined, toBase64Url(randomBytes(16)), logEntry(0).entry);
  assert.deepEqual(closed.topic, new Uint8Array(0));
  assert.equal(closed.open, false);
  const visible = await adminRelay.listChannels();
  assert.deepEqual(visible.map((c) => [c.channelId, c.role]), [[open.channelId, null]]);
  const roles = (members: { accountId: string; role: string }[]) => Object.fromEntries(members.map((m) => [m.accountId, m.role]));
  // an open channel's log can be read before joining (the joiner signs after its head); a private one's cannot
  assert.deepEqual(await adminRelay.channelLog(open.channelId, -1), [logEntry(0)]);
  await assert.rejects(adminRelay.channelLog(closed.channelId, -1), isRelayError('no_such_channel', 404));
  // a change whose entry is not the next position is refused whole
  await assert.rejects(adminRelay.joinChannel(open.channelId, logEntry(5)), isRelayError('stale_log', 409));
  assert.deepEqual(roles(await adminRelay.joinChannel(open.channelId, logEntry(1))), { [created.accountId]: 'owner', [admin.accountId]: 'member' });
  const updated = await carol.updateChannel(open.channelId, { topic: utf8('new topic') });
  assert.deepEqual(updated.topic, utf8('new topic'));
  assert.deepEqual(updated.name, utf8('general'));
  assert.deepEqual(roles(await carol.setRole(open.channelId, admin.accountId, 'admin', logEntry(2))), { [created.accountId]: 'owner', [admin.accountId]: 'admin' });
  assert.deepEqual(roles(await carol.removeMember(open.channelId, admin.accountId, logEntry(3))), { [created.accountId]: 'owner' });
  assert.deepEqual(await carol.channelLog(open.channelId, 1), [logEntry(2), logEntry(3)]);
  assert.deepEqual(roles(await carol.addMembers(closed.channelId, [admin.accountId], logEntry(1))), { [created.accountId]: 'owner', [admin.accountId]: 'member' });
  assert.deepEqual(roles(await adminRelay.channelMembers(closed.channelId)), { [created.accountId]: 'owner', [admin.accountId]: 'member' });
  await adminRelay.leaveChannel(closed.channelId, logEntry(2));
  await assert.rejects(adminRelay.channelMembers(closed.channelId), isRelayError('no_such_channel', 404));
  await assert.rejects(carol.channelMembers('not-an-id'), isRelayError('invalid_input', 0));

  // The org key and a signed policy.
  assert.deepEqual({ ...(await carol.org()) }, { orgKey: null, orgFingerprint: null, policy: null });
  const orgKeys = signingKeyPair();
  const token = await adminRelay.token();
  assert.equal((await rawHttp(server.url, 'PUT', '/v1/org/key', { token, json: { publicKey: toBase64Url(orgKeys.publicKey) } })).status, 200);
  const policy = blob(JSON.stringify({ version: 3 }), orgKeys);
  const published = await rawHttp(server.url, 'PUT', '/v1/org/policy', {
    token, json: { document: { data: toBase64Url(policy.data), signature: toBase64Url(policy.signature) } },
  });
  assert.equal(published.status, 200);
  const org = await carol.org();
  assert.deepEqual(org.orgKey, orgKeys.publicKey);
  assert.equal(org.orgFingerprint, toBase64Url(sha256(orgKeys.publicKey)));
  assert.deepEqual(org.policy, { version: 3, document: policy });
  assert.deepEqual((await carol.serverInfo()).orgKey, orgKeys.publicKey);
});

// ---------------------------------------------------------------- a hostile relay

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function hostileRelay(t: { after(fn: () => Promise<void> | void): void }, routes: Record<string, Handler>): Promise<string> {
  const server = http.createServer((req, res) => {
    const handler = routes[`${req.method} ${req.url}`];
    if (handler) return handler(req, res);
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'no_route', message: 'no route' } }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Handler => (_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));
};
const raw = (status: number, contentType: string, body: string | Buffer): Handler => (_req, res) => {
  res.writeHead(status, { 'content-type': contentType }).end(body);
};

const ID = 'A'.repeat(22);
const goodInfo = { product: 'wardroom', api: 1, pin: null, orgKey: null, turn: false };

test('a hostile relay gets bad_reply or timeout, never an unchecked value', async (t) => {
  const fiveMiB = Buffer.alloc(5 * 1024 * 1024, 0x20);
  const serverInfoCases: [string, Handler, string, number?][] = [
    ['the expected shape (control)', json(200, goodInfo), 'ok'],
    ['a field of the wrong type', json(200, { ...goodInfo, api: '1' }), 'bad_reply'],
    ['another product', json(200, { ...goodInfo, product: 'other' }), 'bad_reply'],
    ['a key of the wrong length', json(200, { ...goodInfo, orgKey: toBase64Url(new Uint8Array(31)) }), 'bad_reply'],
    ['a key that is not base64url', json(200, { ...goodInfo, orgKey: '+'.repeat(43) }), 'bad_reply'],
    ['a missing field', json(200, { product: 'wardroom', api: 1 }), 'bad_reply'],
    ['an array', json(200, [goodInfo]), 'bad_reply'],
    ['truncated JSON', raw(200, 'application/json', '{"product":"wardroom",'), 'bad_reply'],
    ['HTML', raw(200, 'text/html', '<html>hello</html>'), 'bad_reply'],
    ['an error page that is not JSON', raw(502, 'text/html', '<h1>Bad gateway</h1>'), 'bad_reply', 502],
    ['an error with a malformed code', json(500, { error: { code: 'Not A Code!', message: 'x' } }), 'bad_reply', 500],
    ['a huge body with its length declared', raw(200, 'application/json', fiveMiB), 'bad_reply'],
    ['a huge chunked body', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"product":"');
      res.end(fiveMiB);
    }, 'bad_reply'],
    ['no reply at all', () => {}, 'timeout'],
    ['headers, then silence', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{');
    }, 'timeout'],
    ['a connection cut mid-reply', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"product":', () => res.socket?.destroy());
    }, 'network'],
  ];
  for (const [name, handler, expected, status] of serverInfoCases) {
    const url = await hostileRelay(t, { 'GET /v1/server': handler });
    const relay = client(t, await trustEndpoint(url, null), { timeoutMs: 300 });
    if (expected === 'ok') {
      assert.deepEqual({ ...(await relay.serverInfo()) }, goodInfo, name);
      continue;
    }
    await assert.rejects(relay.serverInfo(), (error) => {
      assert.ok(error instanceof RelayError, `${name}: ${String(error)}`);
      assert.equal(error.code, expected, `${name}: ${error.message}`);
      if (status !== undefined) assert.equal(error.status, status, name);
      return true;
    }, name);
  }
});

test('a hostile relay cannot slip wrong identities, tokens or keys past the checks', async (t) => {
  const keys = signingKeyPair();
  const deviceId = deviceIdFor(keys.publicKey);
  const other = signingKeyPair();
  const session = { token: 'T'.repeat(43), expiresAt: Date.now() + 60_000, accountId: ID, deviceId, role: 'member', secondFactor: false };
  const login = (override: Record<string, unknown> = {}): Record<string, Handler> => ({
    'POST /v1/auth/challenge': json(200, { challenge: toBase64Url(randomBytes(32)), expiresAt: Date.now() + 60_000 }),
    'POST /v1/auth/session': json(200, { ...session, ...override }),
  });
  const cases: [string, Record<string, Handler>, (relay: RelayHttp) => Promise<unknown>, string][] = [
    ['a token that could split a header', login({ token: 'abc\r\nX-Evil: 1'.padEnd(43, 'a') }), (r) => r.login(), 'bad_reply'],
    ['a session for another device', login({ deviceId: ID }), (r) => r.login(), 'bad_reply'],
    ['a challenge that is not base64url', { 'POST /v1/auth/challenge': json(200, { challenge: 'A' }) }, (r) => r.login(), 'bad_reply'],
    ['another user in the directory', { ...login(), 'GET /v1/directory/bob': json(200, { accountId: ID, username: 'mallory', accountPublicKey: toBase64Url(other.publicKey) }) },
      (r) => r.directory('bob'), 'bad_reply'],
    ['a device id that is not its key\'s', {
      ...login(), [`GET /v1/accounts/${ID}/devices`]: json(200, {
        accountId: ID, accountPublicKey: toBase64Url(other.publicKey), deviceList: null, deviceListVersion: 0,
        devices: [{ deviceId, signingPublicKey: toBase64Url(other.publicKey), status: 'active', certificate: null, createdAt: 1 }],
      }),
    }, (r) => r.accountDevices(ID), 'bad_reply'],
    ['a prekey bundle naming another device\'s key', {
      ...login(), [`POST /v1/accounts/${ID}/prekeys/claim`]: json(200, {
        accountId: ID, accountPublicKey: toBase64Url(other.publicKey),
        bundles: [{ deviceId, signingPublicKey: toBase64Url(other.publicKey), signedPrekey: null, oneTimePrekey: null }],
      }),
    }, (r) => r.claimPrekeys(ID), 'bad_reply'],
    ['an org fingerprint that is not the key\'s', {
      ...login(), 'GET /v1/org': json(200, { orgKey: toBase64Url(other.publicKey), orgFingerprint: toBase64Url(sha256(keys.publicKey)), policy: null }),
    }, (r) => r.org(), 'bad_reply'],
    ['an invite link for another code', {
      ...login(), 'POST /v1/admin/invites': json(201, { code: 'c'.repeat(43), link: `wardroom://join?server=http%3A%2F%2F127.0.0.1%3A1&code=${'d'.repeat(43)}`, expiresAt: 1 }),
    }, (r) => r.createInvite(false), 'bad_reply'],
    ['a pending device named with another id', { 'POST /v1/devices/pending': json(201, { deviceId: ID, expiresAt: 1 }) },
      (r) => r.requestPendingDevice('bob', keys.publicKey), 'bad_reply'],
  ];
  for (const [name, routes, call, expected] of cases) {
    const relay = client(t, await trustEndpoint(await hostileRelay(t, routes), null), { timeoutMs: 2000 });
    relay.setDevice(deviceId, keys.secretKey);
    await assert.rejects(call(relay), (error) => {
      assert.ok(error instanceof RelayError, `${name}: ${String(error)}`);
      assert.equal(error.code, expected, `${name}: ${error.message}`);
      return true;
    }, name);
  }
  // A well-formed refusal keeps the server's code, status and Retry-After.
  const refusing = client(t, await trustEndpoint(await hostileRelay(t, { ...login(), 'GET /v1/me': json(429, { error: { code: 'locked_out', message: 'wait' } }, { 'retry-after': '7' }) }), null));
  refusing.setDevice(deviceId, keys.secretKey);
  await assert.rejects(refusing.me(), (error) => error instanceof RelayError && error.code === 'locked_out' && error.status === 429 && error.retryAfterSeconds === 7);
});

// ---------------------------------------------------------------- TLS and plain HTTP

test('https: the pinned key works end to end; a wrong pin or another key fails before any request', async (t) => {
  const server = await startTestServer({ insecureHttp: false });
  t.after(() => server.close());
  assert.ok(server.url.startsWith('https://') && server.pin);
  const invite = parseInviteLink(server.firstAdminInvite!);
  assert.equal(invite.pin, server.pin);
  const endpoint = await trustEndpoint(invite.server, invite.pin);
  assert.match(endpoint.ca!, /BEGIN CERTIFICATE/);

  // The first admin signs up and logs in, all over the pinned connection.
  const relay = client(t, endpoint);
  assert.equal((await relay.serverInfo()).pin, server.pin);
  const account = signingKeyPair();
  const device = signingKeyPair();
  const deviceId = deviceIdFor(device.publicKey);
  await relay.createAccount({
    inviteCode: invite.code, username: 'admin', accountPublicKey: account.publicKey, signingPublicKey: device.publicKey,
    certificate: blob(`cert ${deviceId}`, account), deviceList: blob('list 1', account), deviceListVersion: 1,
  });
  relay.setDevice(deviceId, device.secretKey);
  assert.equal((await relay.me()).role, 'admin');

  await assert.rejects(trustEndpoint(server.url, toBase64Url(sha256(utf8('another key')))), isUntrusted(server.url));

  // An impostor with its own key, reached with the real server's pinned certificate: refused in the handshake,
  // so it never sees a request (nor a token).
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec', algorithm: 'sha256' });
  const requests: string[] = [];
  const impostor = https.createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    res.end('{}');
  });
  impostor.listen(0, '127.0.0.1');
  await once(impostor, 'listening');
  t.after(() => {
    impostor.closeAllConnections();
    impostor.close();
  });
  const impostorUrl = `https://127.0.0.1:${(impostor.address() as AddressInfo).port}`;
  const fake = client(t, { ...endpoint, server: impostorUrl });
  fake.setDevice(deviceId, device.secretKey);
  await assert.rejects(fake.me(), isUntrusted(impostorUrl));
  await assert.rejects(fake.serverInfo(), isUntrusted(impostorUrl));
  assert.deepEqual(requests, []);
  // A stored certificate that does not match the stored pin is refused outright (a local fault: no server was asked).
  assert.throws(() => new RelayHttp({ ...endpoint, ca: pems.cert }), isRelayError('invalid_input'));
});

test('plain http is refused for any host but this computer, and addresses must be plain origins', async () => {
  for (const server of ['http://example.com', 'http://10.0.0.1:8443', 'http://127.0.0.2:80', 'http://[fe80::1]:80', 'http://localhost.example.com']) {
    await assert.rejects(trustEndpoint(server, null), isRelayError('insecure'), server);
    assert.throws(() => new RelayHttp({ server, pin: null, ca: null }), isRelayError('insecure'), server);
  }
  for (const server of ['http://127.0.0.1:8443', 'http://[::1]:8443', 'http://localhost:8443']) {
    assert.deepEqual(await trustEndpoint(server, null), { server, pin: null, ca: null });
  }
  await assert.rejects(trustEndpoint('https://relay.example.com', null), isRelayError('insecure'));
  assert.throws(() => new RelayHttp({ server: 'https://relay.example.com', pin: null, ca: null }), isRelayError('insecure'));
  for (const server of ['ftp://relay.example.com', 'https://relay.example.com/path', 'https://user:pw@relay.example.com', 'not a url', 'https://relay.example.com/?q=1']) {
    await assert.rejects(trustEndpoint(server, 'x'.repeat(43)), isRelayError('invalid_input'), server);
  }
});
