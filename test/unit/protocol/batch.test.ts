// Decrypting a queued batch in one transaction through StagedProtocolStore: out-of-order frames all decrypt once,
// a bad frame in the middle costs only itself, and nothing reaches the real store until the batch commits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../../core/protocol/errors.ts';
import { decryptFrame, encryptToDevices } from '../../../core/protocol/processor.ts';
import { createOutboundSenderKey, installSenderKey, senderKeyDistribution, senderKeyEncrypt, serializeInboundSenderKey } from '../../../core/protocol/sender-keys.ts';
import { serializeSessionRecord } from '../../../core/protocol/session.ts';
import { MemoryProtocolStore, serializedState, StagedProtocolStore, type ProtocolWrite, type StateWrite } from '../../../core/protocol/store.ts';
import { encodeEnvelope, encodePayload } from '../../../core/protocol/wire.ts';
import { introduce, knownAccountOf, makeUser, NOW, Relay, textPayload } from './world.ts';

test('a staged batch: each frame decrypts once, a bad frame costs only itself, nothing is stored before the one commit', () => {
  const relay = new Relay();
  const alice = makeUser(relay, 'alice', 1);
  const bob = makeUser(relay, 'bob', 1);
  introduce([alice, bob]);
  const a = alice.devices[0]!;
  const [b] = bob.devices;
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 8; i++) {
    const out = encryptToDevices(a.store, [b!.address], textPayload(`m${i}`), NOW, i === 0 ? [{ known: knownAccountOf(bob), bundle: relay.bundle(b!.address) }] : []);
    a.store.commit(out.writes);
    frames.push(out.frames[0]!.frame);
  }
  const order = [0, 3, 1, 7, 2, 6, 4, 5];
  const staged = new StagedProtocolStore(b!.store);
  const bodies: string[] = [];
  const tampered = Uint8Array.from(frames[6]!);
  tampered[tampered.length - 1]! ^= 1;
  for (const i of [...order.slice(0, 4), -1, ...order.slice(4)]) {
    try {
      const incoming = decryptFrame(staged, i < 0 ? tampered : frames[i]!, NOW);
      staged.commit(incoming.writes);
      bodies.push(incoming.payload.kind === 'text' ? incoming.payload.body : '?');
    } catch (error) {
      assert.ok(error instanceof ProtocolError && error.code === 'DECRYPT_FAILED');
      bodies.push('rejected');
    }
  }
  assert.deepEqual(bodies, ['m0', 'm3', 'm1', 'm7', 'rejected', 'm2', 'm6', 'm4', 'm5']);
  // nothing reached the real store yet: a crash here loses no state and the whole batch decrypts again
  assert.equal(b!.store.sessionRecord(a.address), null);
  const writes = staged.takeWrites();
  b!.store.commit(writes);
  assert.equal(staged.takeWrites().length, 0);
  for (const frame of frames) {
    assert.throws(() => decryptFrame(b!.store, frame, NOW), (e: unknown) => e instanceof ProtocolError && e.code === 'DUPLICATE');
  }
  // the committed session has no skipped keys left: every message of the chain was consumed exactly once
  const record = b!.store.sessionRecord(a.address)!;
  assert.equal(record.active.ratchet.skipped.length, 0);
  assert.equal(record.active.ratchet.receiving!.index, 8);
  assert.ok(serializeSessionRecord(record).length > 0);
});

test('a staged batch keeps only the latest write of each state (all seen ids), and leaves the store as committing message by message does', () => {
  const relay = new Relay();
  const alice = makeUser(relay, 'alice', 1);
  const bob = makeUser(relay, 'bob', 1);
  const from = alice.devices[0]!.address;
  const keys = [createOutboundSenderKey('general', NOW), createOutboundSenderKey('ops', NOW)];
  const initial: ProtocolWrite[] = [
    ...[alice, bob].map((u) => ({ kind: 'known-account' as const, entry: knownAccountOf(u) })),
    ...keys.map((k) => ({ kind: 'inbound-sender-key' as const, state: installSenderKey(null, from, senderKeyDistribution(k)) })),
  ];
  // two stores holding the same state: one takes the batch coalesced, the other each message's writes as they come
  const identity = bob.devices[0]!.identity;
  const [batched, oneByOne] = [0, 1].map(() => new MemoryProtocolStore(identity, bob.devices[0]!.store.prekeys()));
  for (const store of [batched!, oneByOne!]) store.commit(initial);
  const frames = Array.from({ length: 6 }, (_, i) => {
    const channel = i % 2;
    const out = senderKeyEncrypt(keys[channel]!, from, encodePayload(textPayload(`m${i}`)));
    keys[channel] = out.state;
    return encodeEnvelope(out.envelope);
  });
  const order = [4, 0, 1, 5, 2, 3]; // out of order on both channels: skipped keys are made, then used
  const staged = new StagedProtocolStore(batched!);
  for (const i of order) {
    staged.commit(decryptFrame(staged, frames[i]!, NOW).writes);
    oneByOne!.commit(decryptFrame(oneByOne!, frames[i]!, NOW).writes);
  }
  const writes = staged.takeWrites();
  const inbound = writes.filter((w) => w.kind === 'inbound-sender-key');
  assert.equal(inbound.length, 2, 'one write per sender key, not one per message');
  for (const w of inbound) assert.deepEqual(w.state, staged.inboundSenderKey(w.state.channelId, from, w.state.keyId), 'the latest state wins');
  assert.equal(writes.filter((w) => w.kind === 'seen').length, frames.length);
  batched!.commit(writes);
  for (const k of keys) {
    const stored = batched!.inboundSenderKey(k.channelId, from, k.keyId)!;
    assert.equal(stored.iteration, 3);
    assert.deepEqual(serializeInboundSenderKey(stored), serializeInboundSenderKey(oneByOne!.inboundSenderKey(k.channelId, from, k.keyId)!));
  }
  for (const frame of frames) {
    for (const store of [batched!, oneByOne!]) assert.throws(() => decryptFrame(store, frame, NOW), (e: unknown) => e instanceof ProtocolError && e.code === 'DUPLICATE');
  }
});

test('each state is encoded once: a write\'s stored bytes are computed on first use and reused after', () => {
  const alice = makeUser(new Relay(), 'alice', 1);
  const key = createOutboundSenderKey('general', NOW);
  const write: StateWrite = { kind: 'inbound-sender-key', state: installSenderKey(null, alice.devices[0]!.address, senderKeyDistribution(key)) };
  const first = serializedState(write);
  assert.deepEqual(first, serializeInboundSenderKey(write.state));
  assert.equal(serializedState(write), first, 'the same bytes object, not a second encoding');
  // a different write of an equal state is encoded on its own: the bytes belong to the write, not to equal values
  assert.notEqual(serializedState({ ...write }), first);
});
