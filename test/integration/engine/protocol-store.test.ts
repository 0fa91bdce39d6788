// The protocol's state in a real SQLCipher vault: writes commit in the same transaction as the message they came
// with, survive lock and reopen, and a conversation carries on afterwards with replays still refused.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createVault, openVault, insertMessageStatement } from '../../../core/vault/index.ts';
import { VaultProtocolStore, initialProtocolStatements, protocolStatements } from '../../../core/engine/protocol-store.ts';
import { decryptFrame, encryptToDevices, prepareChannelKey, encryptChannelMessage } from '../../../core/protocol/processor.ts';
import { ProtocolError } from '../../../core/protocol/errors.ts';
import { createPrekeys } from '../../../core/protocol/prekeys.ts';
import { createOutboundSenderKey, installSenderKey, senderKeyDistribution, senderKeyEncrypt } from '../../../core/protocol/sender-keys.ts';
import { serializedState, StagedProtocolStore, type ProtocolWrite } from '../../../core/protocol/store.ts';
import { encodeEnvelope, encodePayload } from '../../../core/protocol/wire.ts';
import { Relay, makeUser, introduce, knownAccountOf, textPayload, NOW, type TestDevice, type TestUser } from '../../unit/protocol/world.ts';
import { TEST_KDF, PASSPHRASE, tempDir } from '../../support/vault-helpers.ts';

/**
 * One device's protocol state in a new real vault: its identity, `oneTimeKeys` fresh prekeys (published to the test
 * relay, replacing those makeUser published) and the accounts it knows.
 */
async function deviceVault(t: TestContext, relay: Relay, device: TestDevice, known: TestUser[], oneTimeKeys: number) {
  const dir = tempDir(t);
  const vault = await createVault({ dir, passphrase: PASSPHRASE, kdf: TEST_KDF });
  const { state, upload } = createPrekeys(device.identity, NOW, oneTimeKeys);
  relay.publish(device.identity, upload);
  await vault.transaction([
    ...initialProtocolStatements(device.identity, state),
    ...protocolStatements(known.map((u) => ({ kind: 'known-account' as const, entry: knownAccountOf(u) })), NOW),
  ]);
  return { dir, vault };
}

test('ratchet state and the message it decrypted commit together and survive lock and reopen', async (t) => {
  const relay = new Relay();
  const alice = makeUser(relay, 'alice', 1);
  const bob = makeUser(relay, 'bob', 1);
  introduce([alice, bob]);

  // Bob's device lives in a real vault from here on.
  const bobDevice = bob.devices[0]!;
  const created = await deviceVault(t, relay, bobDevice, [alice, bob], 3);
  const { dir } = created;
  let { vault } = created;
  let store = await VaultProtocolStore.load(vault);

  const aliceStore = alice.devices[0]!.store;
  const receive = async (frame: Uint8Array, n: number) => {
    const incoming = decryptFrame(store, frame, NOW + n);
    assert.equal(incoming.payload.kind, 'text');
    await vault.transaction([
      ...protocolStatements(incoming.writes),
      insertMessageStatement({ messageId: `m${n}`, conversationId: 'dm', senderId: 'alice', sentAt: NOW + n, body: (incoming.payload as { body: string }).body }),
    ]);
    store.commit(incoming.writes);
  };
  const send = (body: string, n: number, withBundle: boolean) => {
    const out = encryptToDevices(aliceStore, [bobDevice.address], textPayload(body, NOW + n), NOW + n,
      withBundle ? [{ known: knownAccountOf(bob), bundle: relay.bundle(bobDevice.address) }] : []);
    aliceStore.commit(out.writes);
    return out.frames[0]!.frame;
  };

  const first = send('hello bob', 1, true);
  await receive(first, 1);
  const second = send('second', 2, false);
  await receive(second, 2);

  await vault.lock();
  vault = await openVault({ dir, passphrase: PASSPHRASE });
  t.after(() => vault.lock());
  store = await VaultProtocolStore.load(vault);

  // A replay of a message decrypted before the restart is refused: the "seen" write was committed with it.
  assert.throws(() => decryptFrame(store, second, NOW + 3), (e: ProtocolError) => { assert.equal(e.code, 'DUPLICATE'); return true; });
  // And the ratchet carries on from the stored state.
  await receive(send('after restart', 3, false), 3);
  const rows = await vault.all<{ body: string }>('SELECT body FROM messages ORDER BY sent_at');
  assert.deepEqual(rows.map((r) => r.body), ['hello bob', 'second', 'after restart']);
});

test('a failed message transaction leaves the stored protocol state as it was', async (t) => {
  const relay = new Relay();
  const alice = makeUser(relay, 'alice', 1);
  const bob = makeUser(relay, 'bob', 1);
  introduce([alice, bob]);
  const bobDevice = bob.devices[0]!;
  const { vault } = await deviceVault(t, relay, bobDevice, [alice], 3);
  t.after(() => vault.lock());
  const store = await VaultProtocolStore.load(vault);
  const out = encryptToDevices(alice.devices[0]!.store, [bobDevice.address], textPayload('hi'), NOW, [{ known: knownAccountOf(bob), bundle: relay.bundle(bobDevice.address) }]);
  const incoming = decryptFrame(store, out.frames[0]!.frame, NOW);
  // The message insert violates a constraint (duplicate message id), so the whole transaction must roll back.
  await vault.run(insertMessageStatement({ messageId: 'dup', conversationId: 'dm', senderId: 'x', sentAt: NOW, body: 'x' }).sql,
    insertMessageStatement({ messageId: 'dup', conversationId: 'dm', senderId: 'x', sentAt: NOW, body: 'x' }).params);
  await assert.rejects(vault.transaction([...protocolStatements(incoming.writes), insertMessageStatement({ messageId: 'dup', conversationId: 'dm', senderId: 'alice', sentAt: NOW, body: 'hi' })]));
  const reloaded = await VaultProtocolStore.load(vault);
  assert.equal(reloaded.sessionRecord(incoming.from), null);
  // ...so the same frame still decrypts afterwards: nothing was lost.
  assert.equal(decryptFrame(reloaded, out.frames[0]!.frame, NOW).payload.kind, 'text');
});

test('channel sender keys and their shares round-trip through the vault', async (t) => {
  const relay = new Relay();
  const alice = makeUser(relay, 'alice', 1);
  const bob = makeUser(relay, 'bob', 1);
  introduce([alice, bob]);
  const aliceDevice = alice.devices[0]!;
  const created = await deviceVault(t, relay, aliceDevice, [alice, bob], 1);
  const { dir } = created;
  let { vault } = created;
  let store = await VaultProtocolStore.load(vault);
  const prepared = prepareChannelKey(store, 'ops', [bob.devices[0]!.address], NOW, false, [{ known: knownAccountOf(bob), bundle: relay.bundle(bob.devices[0]!.address) }]);
  await vault.transaction(protocolStatements(prepared.writes));
  store.commit(prepared.writes);
  await vault.lock();
  vault = await openVault({ dir, passphrase: PASSPHRASE });
  t.after(() => vault.lock());
  store = await VaultProtocolStore.load(vault);
  const outbound = store.outboundSenderKey('ops');
  assert.ok(outbound);
  assert.notEqual(store.senderKeyShare('ops', outbound.keyId, bob.devices[0]!.address), null);
  // Bob installs the key from the distribution and reads a channel message encrypted after the reload.
  for (const f of prepared.frames) bob.devices[0]!.store.commit(decryptFrame(bob.devices[0]!.store, f.frame, NOW).writes);
  const message = encryptChannelMessage(store, 'ops', textPayload('to the channel'), NOW + 1);
  const got = decryptFrame(bob.devices[0]!.store, message.frame, NOW + 1);
  assert.equal((got.payload as { body: string }).body, 'to the channel');
});

test('a batch staged and committed in one transaction stores the same rows as its messages committed one by one', async (t) => {
  const relay = new Relay();
  const alice = makeUser(relay, 'alice', 1);
  const bob = makeUser(relay, 'bob', 1);
  const from = alice.devices[0]!.address;
  let key = createOutboundSenderKey('ops', NOW);
  const bobDevice = bob.devices[0]!;
  const { state: prekeys } = createPrekeys(bobDevice.identity, NOW, 1);
  const initial: ProtocolWrite[] = [
    ...[alice, bob].map((u) => ({ kind: 'known-account' as const, entry: knownAccountOf(u) })),
    { kind: 'inbound-sender-key', state: installSenderKey(null, from, senderKeyDistribution(key)) },
  ];
  // two vaults of the same device with the same state (the same prekeys too, so not deviceVault's fresh ones)
  const vaults = await Promise.all([0, 1].map(async () => {
    const vault = await createVault({ dir: tempDir(t), passphrase: PASSPHRASE, kdf: TEST_KDF });
    t.after(() => vault.lock());
    await vault.transaction([...initialProtocolStatements(bobDevice.identity, prekeys), ...protocolStatements(initial, NOW)]);
    return { vault, store: await VaultProtocolStore.load(vault) };
  }));
  const [batched, oneByOne] = vaults as [typeof vaults[0], typeof vaults[0]];
  const frames = Array.from({ length: 5 }, (_, i) => {
    const out = senderKeyEncrypt(key, from, encodePayload(textPayload(`m${i}`)));
    key = out.state;
    return encodeEnvelope(out.envelope);
  });
  const order = [3, 0, 1, 4, 2];
  const staged = new StagedProtocolStore(batched.store);
  for (const i of order) {
    staged.commit(decryptFrame(staged, frames[i]!, NOW).writes);
    const incoming = decryptFrame(oneByOne.store, frames[i]!, NOW);
    await oneByOne.vault.transaction(protocolStatements(incoming.writes, NOW));
    oneByOne.store.commit(incoming.writes);
  }
  const writes = staged.takeWrites();
  const statements = protocolStatements(writes, NOW);
  // the vault row and the memory copy share one encoding of each state
  writes.forEach((w, i) => {
    if (w.kind !== 'seen' && w.kind !== 'sender-key-share') assert.equal((statements[i]!.params as readonly unknown[])[1], serializedState(w));
  });
  await batched.vault.transaction(statements);
  batched.store.commit(writes);
  const rows = (vault: typeof batched.vault) => vault.all<{ key: string; value: Uint8Array }>('SELECT key, value FROM kv WHERE key >= ? AND key < ? ORDER BY key', ['p:', 'p;']);
  const stored = await rows(batched.vault);
  assert.deepEqual(stored, await rows(oneByOne.vault));
  assert.equal(stored.filter((r) => r.key.startsWith('p:seen')).length, frames.length);
  // and the store loaded from those rows refuses every replay and reads the next message
  const reloaded = await VaultProtocolStore.load(batched.vault);
  for (const frame of frames) assert.throws(() => decryptFrame(reloaded, frame, NOW), (e: ProtocolError) => e.code === 'DUPLICATE');
  const next = senderKeyEncrypt(key, from, encodePayload(textPayload('after the batch')));
  assert.equal((decryptFrame(reloaded, encodeEnvelope(next.envelope), NOW).payload as { body: string }).body, 'after the batch');
});
