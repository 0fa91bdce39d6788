// Every rejection is a typed ProtocolError and leaves state unchanged: flipped bytes and truncations of each
// frame kind, replays, misrouted frames, devices missing from the signed list, and forged certificates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAccountIdentity, createDevice } from '../../../core/protocol/identity.ts';
import { ProtocolError } from '../../../core/protocol/errors.ts';
import { decryptFrame, encryptChannelMessage, encryptToDevices, prepareChannelKey } from '../../../core/protocol/processor.ts';
import { createPrekeys } from '../../../core/protocol/prekeys.ts';
import { MemoryProtocolStore } from '../../../core/protocol/store.ts';
import { serializeSessionRecord, sessionDecrypt } from '../../../core/protocol/session.ts';
import { serializePrekeyState } from '../../../core/protocol/prekeys.ts';
import { serializeInboundSenderKey } from '../../../core/protocol/sender-keys.ts';
import { decodeEnvelope, type PairwiseEnvelope } from '../../../core/protocol/wire.ts';
import { introduce, knownAccountOf, makeUser, NOW, Relay, textPayload, type TestDevice } from './world.ts';

function setup() {
  const relay = new Relay();
  const alice = makeUser(relay, 'alice', 1);
  const bob = makeUser(relay, 'bob', 1);
  const carol = makeUser(relay, 'carol', 1);
  introduce([alice, bob, carol]);
  return { relay, alice, bob, carol, a: alice.devices[0]!, b: bob.devices[0]!, c: carol.devices[0]! };
}

/** Everything Bob's store holds that a decrypt could change, as bytes. */
function snapshot(device: TestDevice, peer: TestDevice): string {
  const record = device.store.sessionRecord(peer.address);
  const inbound = device.store.inboundSenderKey('general', peer.address, device.store.outboundSenderKey('general')?.keyId ?? 0);
  return [record ? serializeSessionRecord(record) : null, serializePrekeyState(device.store.prekeys()), inbound ? serializeInboundSenderKey(inbound) : null]
    .map((b) => (b ? Buffer.from(b).toString('hex') : '-')).join('|');
}

function assertRejectedEverywhere(device: TestDevice, peer: TestDevice, frame: Uint8Array): void {
  const before = snapshot(device, peer);
  const codes = new Set<string>();
  const attempt = (mutated: Uint8Array) => {
    try {
      decryptFrame(device.store, mutated, NOW);
      assert.fail('a mutated frame was accepted');
    } catch (error) {
      assert.ok(error instanceof ProtocolError, `not a ProtocolError: ${String(error)}`);
      codes.add(error.code);
    }
  };
  for (let i = 0; i < frame.length; i++) {
    const flipped = Uint8Array.from(frame);
    flipped[i]! ^= 1 << (i % 8);
    attempt(flipped);
  }
  for (let cut = 0; cut < frame.length; cut += Math.max(1, Math.floor(frame.length / 64))) attempt(frame.subarray(0, cut));
  assert.equal(snapshot(device, peer), before, 'state is unchanged after every rejected frame');
  assert.ok(codes.has('DECRYPT_FAILED') || codes.has('BAD_SIGNATURE'), [...codes].join(','));
  assert.ok(codes.has('MALFORMED'), [...codes].join(','));
}

test('any flipped bit or truncation of a session-start frame is rejected with a typed error; the real one then works', () => {
  const { relay, bob, a, b } = setup();
  const out = encryptToDevices(a.store, [b.address], textPayload('start'), NOW, [{ known: knownAccountOf(bob), bundle: relay.bundle(b.address) }]);
  assertRejectedEverywhere(b, a, out.frames[0]!.frame);
  b.store.commit(decryptFrame(b.store, out.frames[0]!.frame, NOW).writes);
});

test('any flipped bit or truncation of a ratchet message is rejected; the session is unchanged', () => {
  const { relay, bob, a, b } = setup();
  const first = encryptToDevices(a.store, [b.address], textPayload('one'), NOW, [{ known: knownAccountOf(bob), bundle: relay.bundle(b.address) }]);
  a.store.commit(first.writes);
  b.store.commit(decryptFrame(b.store, first.frames[0]!.frame, NOW).writes);
  const reply = encryptToDevices(b.store, [a.address], textPayload('two'), NOW);
  b.store.commit(reply.writes);
  assertRejectedEverywhere(a, b, reply.frames[0]!.frame);
  a.store.commit(decryptFrame(a.store, reply.frames[0]!.frame, NOW).writes);
  // and at the pure level: a failed decrypt does not touch the state object it was given
  const next = encryptToDevices(b.store, [a.address], textPayload('three'), NOW);
  const envelope = decodeEnvelope(next.frames[0]!.frame) as PairwiseEnvelope;
  const session = a.store.sessionRecord(b.address)!.active;
  const before = serializeSessionRecord({ active: session, previous: [] });
  assert.throws(() => sessionDecrypt(session, { ...envelope, ciphertext: envelope.ciphertext.map((x, i) => (i === 0 ? x ^ 1 : x)) }));
  assert.deepEqual(serializeSessionRecord({ active: session, previous: [] }), before);
});

test('any flipped bit or truncation of a channel message is rejected; the sender key is unchanged', () => {
  const { relay, bob, a, b } = setup();
  const dist = prepareChannelKey(a.store, 'general', [b.address], NOW, false, [{ known: knownAccountOf(bob), bundle: relay.bundle(b.address) }]);
  a.store.commit(dist.writes);
  b.store.commit(decryptFrame(b.store, dist.frames[0]!.frame, NOW).writes);
  const message = encryptChannelMessage(a.store, 'general', textPayload('channel'), NOW);
  assertRejectedEverywhere(b, a, message.frame);
  b.store.commit(decryptFrame(b.store, message.frame, NOW).writes);
});

test('replay: a frame delivered again after commit is DUPLICATE', () => {
  const { relay, bob, a, b } = setup();
  const out = encryptToDevices(a.store, [b.address], textPayload('once'), NOW, [{ known: knownAccountOf(bob), bundle: relay.bundle(b.address) }]);
  b.store.commit(decryptFrame(b.store, out.frames[0]!.frame, NOW).writes);
  assert.throws(() => decryptFrame(b.store, out.frames[0]!.frame, NOW), (e: unknown) => e instanceof ProtocolError && e.code === 'DUPLICATE');
});

test('a frame for Bob delivered to Carol is WRONG_RECIPIENT', () => {
  const { relay, bob, a, b, c } = setup();
  const out = encryptToDevices(a.store, [b.address], textPayload('for bob'), NOW, [{ known: knownAccountOf(bob), bundle: relay.bundle(b.address) }]);
  assert.throws(() => decryptFrame(c.store, out.frames[0]!.frame, NOW), (e: unknown) => e instanceof ProtocolError && e.code === 'WRONG_RECIPIENT');
});

test('a device missing from the signed list, or certified by another account key, cannot start a session', () => {
  const { relay, alice, bob, b } = setup();
  // a device Alice's account really certified, but never put on her signed list (as a malicious server might add)
  const unlisted = createDevice(alice.account, 'alice', 'unlisted', NOW);
  // a device certified by some other key claiming to be Alice's
  const impostor = createDevice(createAccountIdentity(), 'alice', 'd0', NOW);
  for (const identity of [unlisted, impostor]) {
    const store = new MemoryProtocolStore(identity, createPrekeys(identity, NOW, 1).state);
    store.commit([{ kind: 'known-account', entry: knownAccountOf(bob) }, { kind: 'known-account', entry: knownAccountOf(alice) }]);
    const sent = encryptToDevices(store, [b.address], textPayload('hi'), NOW, [{ known: knownAccountOf(bob), bundle: relay.bundle(b.address) }]);
    assert.throws(() => decryptFrame(b.store, sent.frames[0]!.frame, NOW), (e: unknown) => e instanceof ProtocolError && e.code === 'UNKNOWN_DEVICE');
  }
});
