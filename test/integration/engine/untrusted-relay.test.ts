// A man in the middle with a certificate of its own (an "impostor" at the relay's address). The pin must hold
// whatever the environment says (NODE_TLS_REJECT_UNAUTHORIZED=0), and a failed pin is an alarm: a typed
// UNTRUSTED_RELAY error naming the relay on every call, a final `untrusted` socket state, and no retry loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import { signingKeyPair } from '../../../core/crypto/sodium.ts';
import { spkiPin } from '../../../core/net/pinned-tls.ts';
import { deviceIdFor } from '../../../core/protocol/ids.ts';
import { RelayHttp, UntrustedRelayError, type RelayEndpoint } from '../../../core/engine/relay-http.ts';
import { RelaySocket, type ConnectionState } from '../../../core/engine/relay-socket.ts';
import { Engine } from '../../../core/engine/engine.ts';
import { join } from '../../../core/engine/enrol.ts';
import { idOf, startOrg } from '../../support/engines.ts';
import { startImpostor, selfSignedCertificate, type Impostor } from '../../support/impostor.ts';
import { startTestServer, tempDir } from '../../support/server-client.ts';
import { TEST_KDF } from '../../support/vault-helpers.ts';

const CHILD = path.join(import.meta.dirname, '..', '..', 'support', 'pinned-client-child.ts');
type After = { after(fn: () => unknown): void };

/** An impostor for the length of one test. */
async function impostorFor(t: After, port = 0): Promise<Impostor> {
  const impostor = await startImpostor(port);
  t.after(() => impostor.close());
  return impostor;
}

/** The endpoint a profile would hold for the real relay (its certificate and pin), pointed at `server`. */
async function pinnedEndpoint(server: string): Promise<RelayEndpoint> {
  const real = await selfSignedCertificate();
  return { server, pin: spkiPin(new X509Certificate(real.cert)), ca: real.cert };
}

const isUntrusted = (relay: string) => (error: unknown) => {
  assert.ok(error instanceof UntrustedRelayError, `expected an UntrustedRelayError, got ${String(error)}`);
  assert.equal(error.code, 'UNTRUSTED_RELAY');
  assert.equal(error.relay, relay);
  assert.ok(error.message.includes(relay), error.message);
  assert.doesNotMatch(error.message, /\n/);
  return true;
};

test('NODE_TLS_REJECT_UNAUTHORIZED=0 does not switch the pin off: the impostor receives no request and no token', async (t) => {
  const impostor = await impostorFor(t);
  const endpoint = await pinnedEndpoint(impostor.url);
  const { stdout } = await promisify(execFile)(process.execPath, ['--no-warnings', CHILD, JSON.stringify(endpoint)], {
    env: { ...process.env, NODE_TLS_REJECT_UNAUTHORIZED: '0' }, timeout: 30_000,
  });
  const result = JSON.parse(stdout) as { http: { code?: string; message: string }; socket: { code?: string }; states: ConnectionState[] };
  assert.deepEqual(impostor.seen.requests, [], 'no HTTP request (no login, no token) reached the impostor');
  assert.deepEqual(impostor.seen.upgrades, [], 'no WebSocket upgrade (no token) reached the impostor');
  assert.equal(result.http.code, 'UNTRUSTED_RELAY', result.http.message);
  assert.equal(result.socket.code, 'UNTRUSTED_RELAY');
  assert.equal(result.states.at(-1), 'untrusted');
});

test('a pin mismatch is an alarm: every call fails with UNTRUSTED_RELAY naming the relay, and the socket stops for good', async (t) => {
  const impostor = await impostorFor(t);
  const endpoint = await pinnedEndpoint(impostor.url);
  const relay = new RelayHttp(endpoint);
  t.after(() => relay.close());
  const device = signingKeyPair();
  relay.setDevice(deviceIdFor(device.publicKey), device.secretKey);
  await assert.rejects(relay.serverInfo(), isUntrusted(impostor.url));
  await assert.rejects(relay.me(), isUntrusted(impostor.url));

  const states: [ConnectionState, UntrustedRelayError | undefined][] = [];
  const problems: Error[] = [];
  const socket = new RelaySocket({
    endpoint, token: (rejected) => relay.token(rejected), onDeliveries: async () => {},
    onState: (state, _retry, reason) => states.push([state, reason]), onProblem: (error) => problems.push(error),
    backoff: { baseMs: 10, maxMs: 20 },
  });
  t.after(() => socket.stop());
  socket.start();
  await assert.rejects(socket.waitOnline(5000), isUntrusted(impostor.url));
  const connectionsAtAlarm = impostor.seen.connections;
  // Ample time for dozens of reconnects at a 10-20 ms backoff, had the socket kept trying.
  await new Promise((resolve) => setTimeout(resolve, 400));
  assert.equal(impostor.seen.connections, connectionsAtAlarm, 'no reconnect after the alarm');
  assert.deepEqual(states.map(([state]) => state), ['connecting', 'untrusted']);
  assert.ok(states[1]![1] instanceof UntrustedRelayError);
  assert.equal(problems.filter((p) => p instanceof UntrustedRelayError).length, 1, 'reported once');
  await assert.rejects(socket.send(new Uint8Array(16), Date.now() + 60_000, []), isUntrusted(impostor.url));
  await socket.stop();
  assert.equal(socket.state, 'untrusted', 'stopping does not turn the alarm into an ordinary "offline"');
  assert.deepEqual(impostor.seen.requests, []);
});

test('an enrolled engine meeting an impostor at its relay\'s address: commands fail with UNTRUSTED_RELAY, nothing is retried', async (t) => {
  const server = await startTestServer({ insecureHttp: false });
  const profileDir = path.join(tempDir(), 'admin');
  const enrolled = await join({ profileDir, passphrase: 'untrusted relay test', kdf: TEST_KDF }, server.firstAdminInvite!, 'admin', Date.now());
  await enrolled.vault.lock();
  const port = server.port;
  await server.close();
  const impostor = await impostorFor(t, port);

  const engine = await Engine.open({ profileDir, passphrase: 'untrusted relay test', outboxRetry: { firstMs: 10, maxMs: 20 } });
  t.after(() => engine.close());
  await assert.rejects(engine.api.call('devices.list', {}), isUntrusted(server.url));
  await assert.rejects(engine.api.call('org.invite', { admin: false }), isUntrusted(server.url));
  const connections = impostor.seen.connections;
  await new Promise((resolve) => setTimeout(resolve, 400));
  assert.equal(impostor.seen.connections, connections, "no retry loop");
  assert.deepEqual(impostor.seen.requests, []);
  assert.deepEqual(impostor.seen.upgrades, []);
});

test('a send the relay turned impostor under: kept (pending, nothing lost), the alarm raised, and sent once when the real relay is back', async (t) => {
  const org = await startOrg({}, { insecureHttp: false });
  t.after(() => org.close());
  const alice = await org.addUser('alice');
  const bob = await org.addUser('bob');
  const toBob = await idOf(alice.engine.api, '@bob');
  const first = await alice.engine.api.call('messages.send', { conversation: toBob, text: 'before' });
  await bob.waitFor(() => bob.received().find((m) => m.id === first.id), 15_000, 'the first message');

  const port = org.server.port;
  await org.server.close();
  await alice.waitFor(() => alice.events.find((e) => e.name === 'connection.state' && (e.payload as { state: string }).state === 'offline'), 15_000, 'offline');
  // sent while the relay is merely down (no alarm yet, so it is taken), and an impostor answers its reconnect
  const sending = alice.engine.api.call('messages.send', { conversation: toBob, text: 'kept through the impostor' });
  const impostor = await impostorFor(t, port);
  const kept = await sending;
  assert.equal(kept.status, 'pending', 'queued on this device');
  const alarm = await alice.waitFor(() => alice.events.find((e) => e.name === 'connection.state' && (e.payload as { state: string }).state === 'untrusted'), 15_000, 'the alarm');
  assert.match((alarm.payload as { message: string }).message, /not the pinned one/);
  // from now on a send is refused before anything is stored: nothing to send twice later
  await assert.rejects(alice.engine.api.call('messages.send', { conversation: toBob, text: 'refused' }), isUntrusted(org.url));
  const listed = (await alice.engine.api.call('messages.list', { conversation: toBob, limit: 10 })).messages;
  assert.deepEqual(listed.filter((m) => !m.notice).map((m) => [m.text, m.status]), [['before', 'sent'], ['kept through the impostor', 'pending']]);
  assert.deepEqual(impostor.seen.requests, []);
  assert.deepEqual(impostor.seen.upgrades, []);

  await impostor.close();
  await org.restartServer();
  assert.equal(org.server.port, port);
  // the alarm stands until the profile is opened again (bob met the impostor too)
  const reopened = await alice.reopen();
  const bobAgain = await bob.reopen();
  await bobAgain.waitFor(() => bobAgain.received().find((m) => m.id === kept.id), 30_000, 'the kept message');
  await reopened.engine.api.call('sync.now', {});
  await bobAgain.engine.api.call('sync.now', {});
  assert.equal(bobAgain.received().filter((m) => m.id === kept.id).length, 1, 'exactly once');
  assert.ok(!bobAgain.received().some((m) => m.text === 'refused'));
  const after = (await reopened.engine.api.call('messages.list', { conversation: toBob, limit: 10 })).messages.filter((m) => !m.notice);
  assert.deepEqual(after.map((m) => m.text), ['before', 'kept through the impostor'], 'nothing doubled here either');
});
