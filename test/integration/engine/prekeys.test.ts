// Prekeys against a real relay and real vaults: a drained device still gets new sessions (on its last-resort keys,
// which stay on the relay), the device's maintenance refills the relay from the relay's own count (even when the
// device believes it holds plenty), and a device from before ML-KEM is brought up to date. The maintenance runs
// here on a closed engine's vault (core/engine/prekeys/upload.ts, what the engine calls on connect and prekeys_low).
// And a relay that strips the ML-KEM prekeys from bundles gets no classic (downgraded) session.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { maintainPrekeys } from '../../../core/engine/prekeys/upload.ts';
import { loadProfile } from '../../../core/engine/profile.ts';
import { protocolStatements, VaultProtocolStore } from '../../../core/engine/protocol-store.ts';
import { RelayHttp } from '../../../core/engine/relay-http.ts';
import { addOneTimePrekeys, MAX_ONE_TIME_PREKEYS, PREKEY_POLICY, serializePrekeyState } from '../../../core/protocol/prekeys.ts';
import type { ProtocolWrite } from '../../../core/protocol/store.ts';
import { decodeEnvelope, type PairwiseEnvelope } from '../../../core/protocol/wire.ts';
import { openVault, type Vault } from '../../../core/vault/index.ts';
import { PROFILE_MIGRATIONS } from '../../../core/engine/schema.ts';
import { idOf, PASSPHRASE, startOrg, type TestEngine, type TestOrg } from '../../support/engines.ts';
import { startHostileRelay, type HostileRelay } from '../../support/hostile-relay.ts';
import { classicPrekeys } from '../../unit/protocol/world.ts';

describe('engine: prekeys on the relay', () => {
  let org: TestOrg;

  before(async () => {
    org = await startOrg();
  });
  after(() => org.close());

  /** A drainer the claim limits did not stop (many accounts over many hours): every one-time key of both kinds taken. */
  const drain = (deviceId: string) => {
    while (org.server.store.prekeyStock(deviceId).oneTime + org.server.store.prekeyStock(deviceId).kemOneTime > 0) org.server.store.claimPrekeys(deviceId);
  };

  /** A closed engine's vault, its protocol store and an HTTP client logged in as its device. */
  async function openDevice(user: TestEngine) {
    const vault = await openVault({ dir: user.profileDir, passphrase: PASSPHRASE, migrations: PROFILE_MIGRATIONS });
    const store = await VaultProtocolStore.load(vault);
    const { profile } = await loadProfile(vault);
    const http = new RelayHttp({ server: profile.server, pin: profile.pin, ca: profile.ca });
    http.setDevice(profile.deviceId, store.device().signing.secretKey);
    const commit = async (writes: ProtocolWrite[]) => {
      await vault.transaction(protocolStatements(writes));
      store.commit(writes);
    };
    const maintain = () => maintainPrekeys({ store, vault, http, now: Date.now(), settled: async () => {} });
    return { vault, store, http, commit, maintain };
  }
  const lock = (vault: Vault) => vault.lock();

  it('after a drain, a new session uses the last-resort keys of both kinds, which stay on the relay', async () => {
    const bob = await org.addUser('bob');
    const gus = await org.addUser('gus');
    const device = bob.engine.deviceId;
    await bob.engine.close(); // offline: it cannot top up before the next session arrives
    drain(device);
    const hello = await gus.engine.api.call('messages.send', { conversation: await idOf(gus.engine.api, '@bob'), text: 'after the drain' });
    const queued = await gus.waitFor(() => org.server.store.pendingFor(device, 0, Date.now(), 10).find((e) => e.senderDevice === gus.engine.deviceId), 15_000, 'the envelope on the relay');
    const start = (decodeEnvelope(queued.body) as PairwiseEnvelope).start!;

    const { vault, store } = await openDevice(bob);
    const prekeys = store.prekeys();
    await lock(vault);
    assert.equal(start.oneTimePrekeyId, prekeys.lastResort[0]!.id, 'the X25519 last-resort key');
    assert.equal(start.kem?.prekeyId, prekeys.kemLastResort[0]!.id, 'the ML-KEM last-resort key: the session is still hybrid');
    const stock = org.server.store.prekeyStock(device);
    assert.deepEqual([stock.lastResortId, stock.kemLastResortId], [prekeys.lastResort[0]!.id, prekeys.kemLastResort[0]!.id], 'both stay on the relay');

    const back = await bob.reopen();
    await back.waitFor(() => back.received().find((m) => m.id === hello.id), 15_000, 'the message on the last-resort session');
    await back.engine.close();
  });

  it('refills the relay to the target from the relay\'s count, also when the device\'s own count says it is full', async () => {
    const dee = await org.addUser('dee');
    const device = dee.engine.deviceId;
    await dee.engine.close();
    const { vault, store, commit, maintain } = await openDevice(dee);
    try {
      const complete = await maintain();
      assert.deepEqual([complete.oneTime, complete.kemOneTime], [PREKEY_POLICY.target, PREKEY_POLICY.target], 'enrolment uploaded a full stock');
      const untouched = serializePrekeyState(store.prekeys());
      assert.deepEqual(await maintain(), complete, 'a complete relay gets nothing');
      assert.deepEqual(serializePrekeyState(store.prekeys()), untouched);

      drain(device);
      const refilled = await maintain();
      assert.deepEqual([refilled.oneTime, refilled.kemOneTime], [PREKEY_POLICY.target, PREKEY_POLICY.target]);
      assert.deepEqual(org.server.store.prekeyStock(device), refilled);

      // the drained keys were never used, so the device still holds them: its own count is at the cap
      await commit([{ kind: 'prekeys', state: addOneTimePrekeys(store.prekeys(), MAX_ONE_TIME_PREKEYS).state }]);
      assert.equal(store.prekeys().oneTime.length, MAX_ONE_TIME_PREKEYS);
      drain(device);
      const again = await maintain();
      assert.deepEqual([again.oneTime, again.kemOneTime], [PREKEY_POLICY.target, PREKEY_POLICY.target]);
      const newest = store.prekeys().oneTime.slice(-PREKEY_POLICY.target).map((k) => k.id);
      const handedOut = org.server.store.claimPrekeys(device).oneTimePrekey!.keyId;
      assert.ok(newest.includes(handedOut), 'the relay hands out keys the device kept');
    } finally {
      await lock(vault);
    }
  });

  it('brings a device from before ML-KEM up to date: new keys, last-resort slots, the old stock (with its last-resort key as a one-time key) replaced', async () => {
    const old = await org.addUser('old');
    const gus = org.engines.find((e) => e.username === 'gus')!;
    const device = old.engine.deviceId;
    await old.engine.close();
    const { vault, store, maintain } = await openDevice(old);
    try {
      // what the previous version left: a version-1 state, and the relay holding its last-resort key (id 0) as a one-time key
      const legacy = classicPrekeys(store.device(), Date.now(), 10);
      await vault.transaction(protocolStatements([{ kind: 'prekeys', state: legacy.state }]));
      const raw = (k: { id: number; publicKey: Uint8Array }) => ({ keyId: k.id, data: k.publicKey });
      org.server.store.putPrekeys(device, {
        signed: null, lastResort: null, kemLastResort: null, oneTime: [legacy.upload.lastResort!, ...legacy.upload.oneTime].map(raw), kemOneTime: [], replaceOneTime: true,
      }, 1000);
      const reloaded = await VaultProtocolStore.load(vault);
      assert.deepEqual(reloaded.prekeys().kemLastResort, [], 'the state loads, without ML-KEM keys');
      store.commit([{ kind: 'prekeys', state: reloaded.prekeys() }]);

      const stock = await maintain();
      const state = store.prekeys();
      assert.deepEqual(stock, {
        oneTime: PREKEY_POLICY.target, kemOneTime: PREKEY_POLICY.target, signedPrekeyId: state.signed[0]!.id, lastResortId: state.lastResort[0]!.id, kemLastResortId: state.kemLastResort[0]!.id,
      });
      assert.equal(state.signed[0]!.hybrid, true);
      const ids = new Set<number>();
      while (org.server.store.prekeyStock(device).oneTime > 0) ids.add(org.server.store.claimPrekeys(device).oneTimePrekey!.keyId);
      assert.equal(ids.has(0), false, 'the old last-resort key is no longer handed out as a one-time key');
    } finally {
      await lock(vault);
    }
    const back = await old.reopen();
    const hello = await gus.engine.api.call('messages.send', { conversation: await idOf(gus.engine.api, '@old'), text: 'hybrid now' });
    await back.waitFor(() => back.received().find((m) => m.id === hello.id), 15_000, 'a message on a new (hybrid) session');
  });
});

describe('engine: a relay that strips the ML-KEM prekeys from the bundles it hands out', () => {
  let org: TestOrg;
  let relay: HostileRelay;
  const log: string[] = [];

  before(async () => {
    org = await startOrg({ log: (line) => log.push(line) }, {}, async (url) => (relay = await startHostileRelay(url)));
  });
  after(() => org.close());

  it('gets no classic session out of it: the bundle is refused (PQ_REQUIRED) and reported, nothing goes to that device', async () => {
    const alice = await org.addUser('alice');
    const bob = await org.addUser('bob');
    type Claim = { bundles: { kemPrekey: unknown }[] };
    relay.rewriteReply = (path, body) => (path.endsWith('/prekeys/claim') ? { ...(body as Claim), bundles: (body as Claim).bundles.map((b) => ({ ...b, kemPrekey: null })) } : body);
    await alice.engine.api.call('messages.send', { conversation: await idOf(alice.engine.api, '@bob'), text: 'downgraded?' }).catch(() => {});
    await alice.waitFor(() => log.some((line) => line.includes('PQ_REQUIRED')), 15_000, 'the refused bundle reported');
    const toBob = org.server.store.pendingFor(bob.engine.deviceId, 0, Date.now(), 100).filter((e) => e.senderDevice === alice.engine.deviceId);
    assert.deepEqual(toBob, [], 'nothing was encrypted to bob on a classic session');

    relay.rewriteReply = (_path, body) => body;
    const hello = await alice.engine.api.call('messages.send', { conversation: await idOf(alice.engine.api, '@bob'), text: 'hybrid' });
    await bob.waitFor(() => bob.received().find((m) => m.id === hello.id), 15_000, 'the message on a hybrid session');
  });
  it('tops up both kinds to the target when the relay says the stock is low', async () => {
    const fay = await org.addUser('fay');
    const gus = await org.addUser('gus');
    const store = org.server.store;
    const device = fay.engine.deviceId;
    while (store.prekeyStock(device).kemOneTime > 9) store.claimPrekeys(device);
    const hello = await gus.engine.api.call('messages.send', { conversation: await idOf(gus.engine.api, '@fay'), text: 'first contact' });
    await fay.waitFor(() => fay.received().find((m) => m.id === hello.id), 15_000, 'the message');
    await fay.waitFor(() => store.prekeyStock(device).kemOneTime === PREKEY_POLICY.target, 15_000, 'a refilled ML-KEM stock');
    assert.equal(store.prekeyStock(device).oneTime, PREKEY_POLICY.target);
  });
});
