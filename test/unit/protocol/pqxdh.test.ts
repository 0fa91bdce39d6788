// Hybrid session set-up (X3DH + ML-KEM-768): new sessions are hybrid when the peer publishes ML-KEM prekeys, classic
// starts to and from devices from before ML-KEM keep working, and a relay can neither forge, swap nor strip the
// ML-KEM part. Everything runs through the real processor and stores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { kemKeyPair } from '../../../core/crypto/ml-kem.ts';
import { ProtocolError } from '../../../core/protocol/errors.ts';
import { planPrekeyUpload, rotateSignedPrekey, verifyPrekeyBundle, type PrekeyBundle } from '../../../core/protocol/prekeys.ts';
import { decryptFrame, encryptToDevices, type Incoming } from '../../../core/protocol/processor.ts';
import { deserializeSessionRecord, initiateSession, serializeSessionRecord } from '../../../core/protocol/session.ts';
import { decodeEnvelope, encodeEnvelope, type PairwiseEnvelope } from '../../../core/protocol/wire.ts';
import { sessionSecret } from '../../../core/protocol/x3dh.ts';
import { introduce, knownAccountOf, makeUser, NOW, Relay, textPayload, type TestDevice, type TestUser } from './world.ts';

function expectCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (error: unknown) => error instanceof ProtocolError && error.code === code, `expected ${code}`);
}

function deliver(device: TestDevice, frame: Uint8Array): Incoming {
  const incoming = decryptFrame(device.store, frame, NOW);
  device.store.commit(incoming.writes);
  return incoming;
}

/** The first frame of a new session from `from` to `to`, built from `bundle` (the relay's answer). */
function startWith(from: TestDevice, to: TestDevice, owner: TestUser, bundle: PrekeyBundle, body = 'hello'): Uint8Array {
  const out = encryptToDevices(from.store, [to.address], textPayload(body), NOW, [{ known: knownAccountOf(owner), bundle }]);
  from.store.commit(out.writes);
  return out.frames[0]!.frame;
}

const pairwise = (frame: Uint8Array) => decodeEnvelope(frame) as PairwiseEnvelope;
const bodyOf = (incoming: Incoming) => (incoming.payload.kind === 'text' ? incoming.payload.body : null);

function world(options: { bobClassic?: boolean; bobOneTime?: number } = {}) {
  const relay = new Relay();
  const alice = makeUser(relay, 'alice', 3);
  const bob = makeUser(relay, 'bob', 1, options.bobOneTime ?? 5, { classic: options.bobClassic ?? false });
  introduce([alice, bob]);
  return { relay, alice, bob, a: alice.devices[0]!, b: bob.devices[0]! };
}

test('a new session to a device with ML-KEM prekeys is hybrid: the start carries the ciphertext, the one-time ML-KEM key is used once, the last-resort one is kept', () => {
  const { relay, alice, bob, b } = world({ bobOneTime: 1 });
  const oneTimeKem = b.store.prekeys().kemOneTime[0]!.id;
  const lastResortKem = b.store.prekeys().kemLastResort[0]!.id;
  for (const [i, a] of alice.devices.entries()) {
    const frame = startWith(a, b, bob, relay.bundle(b.address), `from ${i}`);
    const start = pairwise(frame).start!;
    assert.equal(start.kem?.ciphertext.length, 1088);
    assert.equal(start.kem?.prekeyId, i === 0 ? oneTimeKem : lastResortKem, 'the one-time key first, then the last-resort key');
    assert.equal(bodyOf(deliver(b, frame)), `from ${i}`);
  }
  assert.deepEqual(b.store.prekeys().kemOneTime, [], 'the one-time ML-KEM key is gone');
  assert.equal(b.store.prekeys().kemLastResort[0]!.id, lastResortKem, 'the last-resort ML-KEM key is not consumed');
  // the sessions carry on in both directions
  const reply = encryptToDevices(b.store, [alice.devices[2]!.address], textPayload('back'), NOW);
  b.store.commit(reply.writes);
  assert.equal(bodyOf(deliver(alice.devices[2]!, reply.frames[0]!.frame)), 'back');
});

test('classic session starts stay accepted: a device from before ML-KEM gets (and answers) a classic start, byte-compatible with the old format', () => {
  const { relay, alice, bob, a, b } = world({ bobClassic: true });
  const bundle = relay.bundle(b.address);
  assert.equal(bundle.kemPrekey, null);
  const frame = startWith(a, b, bob, bundle);
  const start = pairwise(frame).start!;
  assert.equal('kem' in start, false, 'a classic start has no kem field at all, as before');
  assert.equal(bodyOf(deliver(b, frame)), 'hello');
  // the initiator keeps repeating the start until it hears back: its stored record round-trips and the responder
  // still recognises the repeated start (the digest of a classic start did not change)
  const record = deserializeSessionRecord(serializeSessionRecord(a.store.sessionRecord(b.address)!));
  a.store.commit([{ kind: 'session', peer: b.address, record }]);
  const again = encryptToDevices(a.store, [b.address], textPayload('again'), NOW);
  a.store.commit(again.writes);
  assert.ok(pairwise(again.frames[0]!.frame).start, 'the start is repeated');
  assert.equal(bodyOf(deliver(b, again.frames[0]!.frame)), 'again');
  const reply = encryptToDevices(b.store, [a.address], textPayload('from the old device'), NOW);
  b.store.commit(reply.writes);
  assert.equal(bodyOf(deliver(a, reply.frames[0]!.frame)), 'from the old device');
  void alice;
});

test('a device that gains ML-KEM keys still accepts classic starts on its old signed prekey (until it rotates out), and new bundles are hybrid', () => {
  const { relay, alice, bob, b } = world({ bobClassic: true });
  const oldBundle = relay.bundle(b.address);
  const inFlight = startWith(alice.devices[0]!, b, bob, oldBundle, 'sent before the upgrade');
  const upgraded = planPrekeyUpload(b.store.prekeys(), b.identity, relay.stock(b.address), NOW)!;
  assert.equal(upgraded.upload.replaceOneTime, true, 'the old stock (which held the last-resort key as a one-time key) is replaced');
  b.store.commit([{ kind: 'prekeys', state: upgraded.state }]);
  relay.publish(b.identity, upgraded.upload);
  assert.equal(bodyOf(deliver(b, inFlight)), 'sent before the upgrade');
  const fresh = startWith(alice.devices[1]!, b, bob, relay.bundle(b.address), 'after the upgrade');
  assert.ok(pairwise(fresh).start!.kem, 'new sessions are hybrid');
  assert.equal(bodyOf(deliver(b, fresh)), 'after the upgrade');
  // one more rotation and the classic signed prekey is gone: a classic start on it is refused
  const rotated = rotateSignedPrekey(b.store.prekeys(), b.identity, NOW + 1);
  b.store.commit([{ kind: 'prekeys', state: rotated.state }]);
  expectCode(() => decryptFrame(b.store, startWith(alice.devices[2]!, b, bob, { ...oldBundle, oneTimePrekey: null }), NOW), 'UNKNOWN_PREKEY');
});

test('a bundle whose ML-KEM prekey signature fails is refused, and so is another valid ML-KEM key put in its place', () => {
  const { relay, bob, b } = world();
  const known = knownAccountOf(bob);
  const bundle = relay.bundle(b.address);
  const kem = bundle.kemPrekey!;
  const badSignature = Uint8Array.from(kem.signature);
  badSignature[0]! ^= 1;
  expectCode(() => verifyPrekeyBundle(known, { ...bundle, kemPrekey: { ...kem, signature: badSignature } }), 'BAD_SIGNATURE');
  expectCode(() => verifyPrekeyBundle(known, { ...bundle, kemPrekey: { ...kem, publicKey: kemKeyPair().publicKey } }), 'BAD_SIGNATURE');
  // the signature names the key's id too: a signed key under another id is refused
  expectCode(() => verifyPrekeyBundle(known, { ...bundle, kemPrekey: { ...kem, id: kem.id + 1 } }), 'BAD_SIGNATURE');
  assert.ok(verifyPrekeyBundle(known, bundle).kemPrekey, 'the genuine bundle verifies');
});

test('a relay that strips the ML-KEM prekey cannot downgrade: the initiator refuses the bundle, the responder refuses a classic start on a hybrid prekey', () => {
  const { relay, alice, bob, a, b } = world();
  const bundle = relay.bundle(b.address);
  expectCode(() => verifyPrekeyBundle(knownAccountOf(bob), { ...bundle, kemPrekey: null }), 'PQ_REQUIRED');
  expectCode(() => encryptToDevices(a.store, [b.address], textPayload('x'), NOW, [{ known: knownAccountOf(bob), bundle: { ...bundle, kemPrekey: null } }]), 'PQ_REQUIRED');
  // an initiator that skipped the check (a modified client) gets its classic start refused by the responder
  const verified = { ...verifyPrekeyBundle(knownAccountOf(bob), bundle), kemPrekey: null };
  const session = initiateSession(alice.devices[1]!.identity, verified, NOW);
  alice.devices[1]!.store.commit([{ kind: 'session', peer: b.address, record: { active: session, previous: [] } }]);
  const classic = encryptToDevices(alice.devices[1]!.store, [b.address], textPayload('classic'), NOW);
  const before = b.store.prekeys();
  expectCode(() => decryptFrame(b.store, classic.frames[0]!.frame, NOW), 'PQ_REQUIRED');
  assert.deepEqual(b.store.prekeys(), before, 'nothing was consumed');
});

test('a wrong ML-KEM ciphertext, or a start naming another ML-KEM key, fails the session start and consumes nothing', () => {
  const { relay, bob, a, b } = world();
  const frame = startWith(a, b, bob, relay.bundle(b.address));
  const envelope = pairwise(frame);
  const kem = envelope.start!.kem!;
  const flipped = Uint8Array.from(kem.ciphertext);
  flipped[100]! ^= 0x40;
  const before = b.store.prekeys();
  const lastResort = before.kemLastResort[0]!.id;
  for (const changed of [{ ...kem, ciphertext: flipped }, { ...kem, prekeyId: lastResort }]) {
    const forged = encodeEnvelope({ ...envelope, start: { ...envelope.start!, kem: changed } });
    expectCode(() => decryptFrame(b.store, forged, NOW), 'DECRYPT_FAILED');
    assert.deepEqual(b.store.prekeys(), before);
  }
  expectCode(() => decryptFrame(b.store, encodeEnvelope({ ...envelope, start: { ...envelope.start!, kem: { ...kem, prekeyId: 999_999 } } }), NOW), 'UNKNOWN_PREKEY');
  assert.equal(bodyOf(deliver(b, frame)), 'hello', 'the genuine start still opens the session');
});

test('the hybrid session key depends on every DH output, the ML-KEM shared secret, its public key and its ciphertext', () => {
  const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
  fc.assert(fc.property(
    fc.array(bytes(32), { minLength: 3, maxLength: 4 }), bytes(32), bytes(1184), bytes(1088), fc.nat(), fc.nat(7),
    (dhs, sharedSecret, publicKey, ciphertext, pick, bit) => {
      // sessionSecret wipes what it is given: every call gets fresh copies
      const derive = (d: Uint8Array[], kem: { sharedSecret: Uint8Array; publicKey: Uint8Array; ciphertext: Uint8Array } | null) => sessionSecret(d.map((x) => Uint8Array.from(x)), kem && { ...kem, sharedSecret: Uint8Array.from(kem.sharedSecret) });
      const kem = { sharedSecret, publicKey, ciphertext };
      const reference = derive(dhs, kem);
      assert.deepEqual(derive(dhs, kem), reference, 'deterministic');
      assert.notDeepEqual(derive(dhs, null), reference, 'a classic key differs from a hybrid one');
      const flip = (x: Uint8Array) => {
        const copy = Uint8Array.from(x);
        copy[pick % copy.length]! ^= 1 << bit;
        return copy;
      };
      const which = pick % dhs.length;
      assert.notDeepEqual(derive(dhs.map((d, i) => (i === which ? flip(d) : d)), kem), reference, 'a DH output');
      assert.notDeepEqual(derive(dhs, { ...kem, sharedSecret: flip(sharedSecret) }), reference, 'the KEM shared secret');
      assert.notDeepEqual(derive(dhs, { ...kem, publicKey: flip(publicKey) }), reference, 'the KEM public key');
      assert.notDeepEqual(derive(dhs, { ...kem, ciphertext: flip(ciphertext) }), reference, 'the KEM ciphertext');
    },
  ), { numRuns: 200 });
});
