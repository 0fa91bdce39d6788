// 1:1 and device-to-device sessions through the processor: X3DH, the Double Ratchet, fan-out, out-of-order
// delivery, duplicates, limits, prekey use and recovery from a broken session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decryptFrame, encryptToDevices, fanOutTargets, resetSession, type Incoming } from '../../../core/protocol/processor.ts';
import { ProtocolError } from '../../../core/protocol/errors.ts';
import { MemoryProtocolStore } from '../../../core/protocol/store.ts';
import { createPrekeys, deserializePrekeyState, rotateSignedPrekey, serializePrekeyState } from '../../../core/protocol/prekeys.ts';
import * as identity from '../../../core/protocol/identity.ts';
import {
  createOutboundSenderKey, deserializeInboundSenderKey, deserializeOutboundSenderKey, installSenderKey, senderKeyDistribution,
  serializeInboundSenderKey, serializeOutboundSenderKey,
} from '../../../core/protocol/sender-keys.ts';
import { decodeEnvelope, encodeEnvelope, type PairwiseEnvelope } from '../../../core/protocol/wire.ts';
import { deserializeSessionRecord, serializeSessionRecord } from '../../../core/protocol/session.ts';
import { LIMITS } from '../../../core/protocol/limits.ts';
import { introduce, knownAccountOf, makeUser, NOW, Relay, textPayload, type TestDevice, type TestUser } from './world.ts';

function deliver(device: TestDevice, frame: Uint8Array): Incoming {
  const incoming = decryptFrame(device.store, frame, NOW);
  device.store.commit(incoming.writes);
  return incoming;
}

function bodyOf(incoming: Incoming): string {
  assert.equal(incoming.payload.kind, 'text');
  return incoming.payload.kind === 'text' ? incoming.payload.body : '';
}

/** Sends from `from` to `to` (a single device), starting a session from the relay if there is none. */
function send(relay: Relay, from: TestDevice, to: TestDevice, owner: TestUser, body: string): Uint8Array {
  const first = encryptToDevices(from.store, [to.address], textPayload(body), NOW);
  let result = first;
  if (first.missing.length > 0) {
    result = encryptToDevices(from.store, [to.address], textPayload(body), NOW, [{ known: knownAccountOf(owner), bundle: relay.bundle(to.address) }]);
  }
  from.store.commit(result.writes);
  assert.equal(result.frames.length, 1);
  return result.frames[0]!.frame;
}

function expectCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (error: unknown) => error instanceof ProtocolError && error.code === code);
}

function setup(aliceDevices = 1, bobDevices = 1) {
  const relay = new Relay();
  const alice = makeUser(relay, 'alice', aliceDevices);
  const bob = makeUser(relay, 'bob', bobDevices);
  introduce([alice, bob]);
  return { relay, alice, bob };
}

test('X3DH then Double Ratchet: both directions, several round trips, sessions survive serialization', () => {
  const { relay, alice, bob } = setup();
  const [a] = alice.devices;
  const [b] = bob.devices;
  assert.equal(bodyOf(deliver(b!, send(relay, a!, b!, bob, 'hello bob'))), 'hello bob');
  for (let i = 0; i < 3; i++) {
    assert.equal(bodyOf(deliver(a!, send(relay, b!, a!, alice, `reply ${i}`))), `reply ${i}`);
    assert.equal(bodyOf(deliver(b!, send(relay, a!, b!, bob, `again ${i}`))), `again ${i}`);
  }
  const record = a!.store.sessionRecord(b!.address)!;
  assert.equal(record.active.pendingStart, null, 'the start is no longer repeated once the peer replied');
  assert.deepEqual(deserializeSessionRecord(serializeSessionRecord(record)), record);
});

test('fan-out: one ciphertext per recipient device and per own other device, never to the sender itself', () => {
  const { relay, alice, bob } = setup(2, 3);
  const sender = alice.devices[0]!;
  const targets = fanOutTargets(knownAccountOf(bob), knownAccountOf(alice), sender.address);
  assert.deepEqual(targets.map((t) => `${t.userId}/${t.deviceId}`), ['bob/d0', 'bob/d1', 'bob/d2', 'alice/d1']);
  const bundles = targets.map((t) => ({ known: knownAccountOf(t.userId === 'bob' ? bob : alice), bundle: relay.bundle(t) }));
  const payload = textPayload('to everyone');
  const out = encryptToDevices(sender.store, targets, payload, NOW, bundles);
  sender.store.commit(out.writes);
  assert.equal(out.frames.length, 4);
  assert.equal(new Set(out.frames.map((f) => Buffer.from(f.frame).toString('hex'))).size, 4, 'each device gets its own ciphertext');
  const receivers = [...bob.devices, alice.devices[1]!];
  for (const [i, device] of receivers.entries()) {
    const incoming = deliver(device, out.frames[i]!.frame);
    assert.deepEqual(incoming.payload.id, payload.id);
  }
});

test('out-of-order delivery decrypts every message once; a second delivery is DUPLICATE and changes nothing', () => {
  const { relay, alice, bob } = setup();
  const [a] = alice.devices;
  const [b] = bob.devices;
  const frames = Array.from({ length: 6 }, (_, i) => send(relay, a!, b!, bob, `m${i}`));
  const order = [3, 0, 5, 1, 4, 2];
  for (const i of order) assert.equal(bodyOf(deliver(b!, frames[i]!)), `m${i}`);
  for (const i of order) {
    const before = serializeSessionRecord(b!.store.sessionRecord(a!.address)!);
    expectCode(() => decryptFrame(b!.store, frames[i]!, NOW), 'DUPLICATE');
    assert.deepEqual(serializeSessionRecord(b!.store.sessionRecord(a!.address)!), before);
  }
});

test('a payload re-sent in a new ciphertext (same message id) is still delivered only once', () => {
  const { relay, alice, bob } = setup();
  const [a] = alice.devices;
  const [b] = bob.devices;
  const payload = textPayload('once');
  const first = encryptToDevices(a!.store, [b!.address], payload, NOW, [{ known: knownAccountOf(bob), bundle: relay.bundle(b!.address) }]);
  a!.store.commit(first.writes);
  const second = encryptToDevices(a!.store, [b!.address], payload, NOW);
  a!.store.commit(second.writes);
  deliver(b!, first.frames[0]!.frame);
  expectCode(() => decryptFrame(b!.store, second.frames[0]!.frame, NOW), 'DUPLICATE');
});

test('skipped keys: a jump past the limit is TOO_MANY_SKIPPED; a jump within it keeps at most the cap of keys', () => {
  const { relay, alice, bob } = setup();
  const [a] = alice.devices;
  const [b] = bob.devices;
  deliver(b!, send(relay, a!, b!, bob, 'start'));
  // forge a header far ahead by re-encoding a real frame with a larger index: the limit is checked before any work
  const real = decodeEnvelope(send(relay, a!, b!, bob, 'x')) as PairwiseEnvelope;
  expectCode(() => decryptFrame(b!.store, encodeEnvelope({ ...real, index: LIMITS.maxSkip + 10 }), NOW), 'TOO_MANY_SKIPPED');
  // a real gap of cap + 5 messages: the newest cap keys are kept, the oldest are discarded, and a message that
  // arrives for a discarded key is reported as lost (KEY_DISCARDED), not silently taken for a replay
  const gap = Array.from({ length: LIMITS.skippedKeys + 5 }, (_, i) => send(relay, a!, b!, bob, `gap${i}`));
  deliver(b!, send(relay, a!, b!, bob, 'after the gap'));
  assert.equal(b!.store.sessionRecord(a!.address)!.active.ratchet.skipped.length, LIMITS.skippedKeys);
  expectCode(() => decryptFrame(b!.store, gap[0]!, NOW), 'KEY_DISCARDED');
  expectCode(() => decryptFrame(b!.store, encodeEnvelope(real), NOW), 'KEY_DISCARDED');
  const last = deliver(b!, gap[gap.length - 1]!);
  assert.equal(bodyOf(last), `gap${gap.length - 1}`);
  expectCode(() => decryptFrame(b!.store, gap[gap.length - 1]!, NOW), 'DUPLICATE');
});

test('one-time prekeys are used once; the last-resort prekey takes over when they run out', () => {
  const relay = new Relay();
  const alice = makeUser(relay, 'alice', 3);
  const bob = makeUser(relay, 'bob', 1, 1);
  introduce([alice, bob]);
  const b = bob.devices[0]!;
  const lastResortId = b.store.prekeys().lastResort[0]!.id;
  assert.equal(b.store.prekeys().oneTime.length, 1);
  for (const [i, a] of alice.devices.entries()) {
    const bundle = relay.bundle(b.address);
    if (i > 0) assert.equal(bundle.oneTimePrekey!.id, lastResortId);
    const out = encryptToDevices(a.store, [b.address], textPayload(`from ${i}`), NOW, [{ known: knownAccountOf(bob), bundle }]);
    a.store.commit(out.writes);
    assert.equal(bodyOf(deliver(b, out.frames[0]!.frame)), `from ${i}`);
  }
  assert.equal(b.store.prekeys().oneTime.length, 0);
  assert.equal(b.store.prekeys().lastResort[0]!.id, lastResortId, 'the last-resort key is not consumed');
});

test('a session start naming a used or unknown one-time prekey is UNKNOWN_PREKEY, and nothing changes', () => {
  const { relay, alice, bob } = setup(2, 1);
  const b = bob.devices[0]!;
  const bundle = relay.bundle(b.address);
  const first = encryptToDevices(alice.devices[0]!.store, [b.address], textPayload('one'), NOW, [{ known: knownAccountOf(bob), bundle }]);
  const second = encryptToDevices(alice.devices[1]!.store, [b.address], textPayload('two'), NOW, [{ known: knownAccountOf(bob), bundle }]);
  deliver(b, first.frames[0]!.frame);
  const prekeysBefore = b.store.prekeys();
  expectCode(() => decryptFrame(b.store, second.frames[0]!.frame, NOW), 'UNKNOWN_PREKEY');
  assert.deepEqual(b.store.prekeys(), prekeysBefore);
});

test('broken session: the receiver lost its state, gets NO_SESSION, starts a new session and tells the peer', () => {
  const { relay, alice, bob } = setup();
  const a = alice.devices[0]!;
  const b = bob.devices[0]!;
  deliver(b, send(relay, a, b, bob, 'hi'));
  deliver(a, send(relay, b, a, alice, 'hi back'));
  // Bob's device is restored without its sessions (e.g. reinstalled with the same keys): a fresh store
  const fresh = createPrekeys(b.identity, NOW, 2);
  relay.publish(b.identity, fresh.upload);
  const restored: TestDevice = { ...b, store: new MemoryProtocolStore(b.identity, fresh.state) };
  introduce([alice]);
  restored.store.commit([{ kind: 'known-account', entry: knownAccountOf(alice) }, { kind: 'known-account', entry: knownAccountOf(bob) }]);
  const lost = send(relay, a, b, bob, 'you will not read this');
  let brokenId: Uint8Array | null = null;
  assert.throws(() => decryptFrame(restored.store, lost, NOW), (e: unknown) => {
    if (!(e instanceof ProtocolError) || e.code !== 'NO_SESSION') return false;
    brokenId = Buffer.from(String(e.details.sessionId), 'hex');
    return true;
  });
  const reset = resetSession(restored.store, { known: knownAccountOf(alice), bundle: relay.bundle(a.address) }, brokenId, 'no-session', NOW);
  restored.store.commit(reset.writes);
  const notice = deliver(a, reset.frames[0]!.frame);
  assert.equal(notice.payload.kind, 'session-reset');
  assert.deepEqual(notice.payload.kind === 'session-reset' ? notice.payload.brokenSessionId : null, Uint8Array.from(brokenId!));
  // Alice now sends on the new session (active), and Bob reads it
  assert.equal(bodyOf(deliver(restored, send(relay, a, b, bob, 'resent'))), 'resent');
});

test('signed prekey rotation: a start on the previous signed prekey still works, one from two rotations ago does not', () => {
  const { relay, alice, bob } = setup(3, 1);
  const b = bob.devices[0]!;
  const oldBundle = relay.bundle(b.address);
  const once = rotateSignedPrekey(b.store.prekeys(), b.identity, NOW + 1);
  b.store.commit([{ kind: 'prekeys', state: once.state }]);
  const viaPrevious = encryptToDevices(alice.devices[0]!.store, [b.address], textPayload('on the previous key'), NOW, [{ known: knownAccountOf(bob), bundle: oldBundle }]);
  assert.equal(bodyOf(deliver(b, viaPrevious.frames[0]!.frame)), 'on the previous key');
  const twice = rotateSignedPrekey(b.store.prekeys(), b.identity, NOW + 2);
  b.store.commit([{ kind: 'prekeys', state: twice.state }]);
  const tooOld = encryptToDevices(alice.devices[1]!.store, [b.address], textPayload('too old'), NOW, [{ known: knownAccountOf(bob), bundle: { ...relay.bundle(b.address), signedPrekey: oldBundle.signedPrekey } }]);
  expectCode(() => decryptFrame(b.store, tooOld.frames[0]!.frame, NOW), 'UNKNOWN_PREKEY');
  const current = { ...relay.bundle(b.address), signedPrekey: twice.signedPrekey };
  const fresh = encryptToDevices(alice.devices[2]!.store, [b.address], textPayload('current key'), NOW, [{ known: knownAccountOf(bob), bundle: current }]);
  assert.equal(bodyOf(deliver(b, fresh.frames[0]!.frame)), 'current key');
});

test('a device dropped from its account\'s signed list can no longer send to us or be sent to', () => {
  const { relay, alice, bob } = setup(1, 2);
  const a = alice.devices[0]!;
  const [b0, b1] = bob.devices;
  deliver(a, send(relay, b1!, a, alice, 'from the old laptop'));
  const pending = send(relay, b1!, a, alice, 'sent just before removal');
  const update = identity.applyDeviceList(knownAccountOf(bob), 'bob', identity.signDeviceList(bob.account, { userId: 'bob', version: 2, devices: ['d0'], issuedAt: NOW + 1 }));
  assert.equal(update.kind, 'updated');
  assert.deepEqual(update.kind === 'updated' ? update.removed : [], ['d1']);
  a.store.commit([{ kind: 'known-account', entry: update.entry }]);
  expectCode(() => decryptFrame(a.store, pending, NOW), 'UNKNOWN_DEVICE');
  expectCode(() => encryptToDevices(a.store, [b1!.address], textPayload('still there?'), NOW), 'UNKNOWN_DEVICE');
  assert.deepEqual(fanOutTargets(update.entry, knownAccountOf(alice), a.address), [b0!.address]);
});

test('every persisted protocol state round-trips through its serializer', () => {
  const { relay, alice, bob } = setup();
  const a = alice.devices[0]!;
  const b = bob.devices[0]!;
  deliver(b, send(relay, a, b, bob, 'x'));
  const prekeys = b.store.prekeys();
  assert.deepEqual(deserializePrekeyState(serializePrekeyState(prekeys)), prekeys);
  const record = b.store.sessionRecord(a.address)!;
  assert.deepEqual(deserializeSessionRecord(serializeSessionRecord(record)), record);
  const outbound = createOutboundSenderKey('general', NOW);
  assert.deepEqual(deserializeOutboundSenderKey(serializeOutboundSenderKey(outbound)), outbound);
  const inbound = installSenderKey(null, a.address, senderKeyDistribution(outbound));
  assert.deepEqual(deserializeInboundSenderKey(serializeInboundSenderKey(inbound)), inbound);
});

test('after an account key change, sessions made under the old key are not used in either direction', () => {
  const { relay, alice, bob } = setup();
  const a = alice.devices[0]!;
  const b = bob.devices[0]!;
  deliver(b, send(relay, a, b, bob, 'before'));
  const late = send(relay, b, a, alice, 'late reply on the old session');
  const newAccount = identity.createAccountIdentity();
  const outcome = identity.applyDeviceList(knownAccountOf(bob), 'bob', identity.signDeviceList(newAccount, { userId: 'bob', version: 1, devices: ['d0'], issuedAt: NOW }));
  assert.equal(outcome.kind, 'key-changed');
  a.store.commit([{ kind: 'known-account', entry: outcome.entry }]);
  assert.deepEqual(encryptToDevices(a.store, [b.address], textPayload('hi'), NOW).missing, [b.address]);
  expectCode(() => decryptFrame(a.store, late, NOW), 'UNKNOWN_DEVICE');
});
