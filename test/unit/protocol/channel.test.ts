// Channels: sender keys distributed over pairwise sessions, signed channel messages, joins and removals,
// rotation policy, and asking for a missing key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  answerSenderKeyRequest, decryptFrame, encryptChannelMessage, prepareChannelKey, requestSenderKey, type Incoming, type NewSession,
} from '../../../core/protocol/processor.ts';
import { ProtocolError } from '../../../core/protocol/errors.ts';
import {
  channelSignedBytes, createOutboundSenderKey, installSenderKey, senderKeyDecrypt, senderKeyDistribution, senderKeyEncrypt, senderKeyRotationReason,
} from '../../../core/protocol/sender-keys.ts';
import { decodeEnvelope, encodeEnvelope, encodePayload, type ChannelEnvelope } from '../../../core/protocol/wire.ts';
import { framed, uint32Bytes } from '../../../core/protocol/codec.ts';
import { LABEL } from '../../../core/protocol/labels.ts';
import { verify } from '../../../core/crypto/sodium.ts';
import { LIMITS } from '../../../core/protocol/limits.ts';
import { introduce, knownAccountOf, makeUser, NOW, Relay, textPayload, type TestDevice, type TestUser } from './world.ts';

const CHANNEL = 'general';

function deliver(device: TestDevice, frame: Uint8Array): Incoming {
  const incoming = decryptFrame(device.store, frame, NOW);
  device.store.commit(incoming.writes);
  return incoming;
}

function expectCode(fn: () => unknown, code: string): ProtocolError {
  let caught: ProtocolError | undefined;
  assert.throws(fn, (e: unknown) => {
    caught = e instanceof ProtocolError ? e : undefined;
    return caught?.code === code;
  });
  return caught!;
}

function bodyOf(incoming: Incoming): string {
  return incoming.payload.kind === 'text' ? incoming.payload.body : `<${incoming.payload.kind}>`;
}

function setup() {
  const relay = new Relay();
  const users = [makeUser(relay, 'alice', 2), makeUser(relay, 'bob', 2), makeUser(relay, 'carol', 1)];
  introduce(users);
  return { relay, users, sender: users[0]!.devices[0]! };
}

const devicesOf = (users: TestUser[]) => users.flatMap((u) => u.devices);
const ownerOf = (users: TestUser[], d: TestDevice) => users.find((u) => u.userId === d.address.userId)!;

/** The sender (re)distributes its key to `members` (starting sessions from the relay) and they all install it. */
function distribute(relay: Relay, users: TestUser[], sender: TestDevice, members: TestDevice[], membersLeft = false) {
  const sessions: NewSession[] = members
    .filter((m) => !sender.store.sessionRecord(m.address))
    .map((m) => ({ known: knownAccountOf(ownerOf(users, m)), bundle: relay.bundle(m.address) }));
  const out = prepareChannelKey(sender.store, CHANNEL, members.map((m) => m.address), NOW, membersLeft, sessions);
  sender.store.commit(out.writes);
  assert.deepEqual(out.missing, []);
  for (const { to, frame } of out.frames) {
    const member = members.find((m) => m.address.userId === to.userId && m.address.deviceId === to.deviceId)!;
    assert.equal(deliver(member, frame).payload.kind, 'sender-key');
  }
  return out;
}

function post(sender: TestDevice, body: string): Uint8Array {
  const out = encryptChannelMessage(sender.store, CHANNEL, textPayload(body), NOW);
  sender.store.commit(out.writes);
  return out.frame;
}

test('every member device (including the sender\'s other device) reads a signed channel message', () => {
  const { relay, users, sender } = setup();
  const members = devicesOf(users).filter((d) => d !== sender);
  const first = distribute(relay, users, sender, members);
  assert.equal(first.rotated, 'no-key');
  assert.equal(first.frames.length, 4);
  const frame = post(sender, 'hello channel');
  for (const m of members) {
    const incoming = deliver(m, frame);
    assert.equal(bodyOf(incoming), 'hello channel');
    assert.equal(incoming.channelId, CHANNEL);
  }
  // a second prepare with the same members sends nothing: everyone holds the key already
  assert.equal(distribute(relay, users, sender, members).frames.length, 0);
});

test('out-of-order channel messages decrypt once each; duplicates are refused', () => {
  const { relay, users, sender } = setup();
  const bob = users[1]!.devices[0]!;
  distribute(relay, users, sender, [bob]);
  const frames = Array.from({ length: 5 }, (_, i) => post(sender, `c${i}`));
  for (const i of [4, 1, 3, 0, 2]) assert.equal(bodyOf(deliver(bob, frames[i]!)), `c${i}`);
  for (const frame of frames) expectCode(() => decryptFrame(bob.store, frame, NOW), 'DUPLICATE');
});

test('channel: a jump past the skipped-key cap keeps the newest keys; older messages are KEY_DISCARDED, not duplicates', () => {
  // pure sender-key functions: the processor's rotation policy (1,000 messages) would rotate before the cap
  const from = { userId: 'alice', deviceId: 'd0' };
  let outbound = createOutboundSenderKey(CHANNEL, NOW);
  let inbound = installSenderKey(null, from, senderKeyDistribution(outbound));
  const envelopes = Array.from({ length: LIMITS.skippedKeys + 3 }, () => {
    const out = senderKeyEncrypt(outbound, from, new Uint8Array(256));
    outbound = out.state;
    return out.envelope;
  });
  const open = (i: number) => {
    const out = senderKeyDecrypt(inbound, envelopes[i]!);
    inbound = out.state;
  };
  open(envelopes.length - 1); // skips cap + 2 iterations: the newest cap keys are kept, iterations 0 and 1 discarded
  expectCode(() => open(0), 'KEY_DISCARDED');
  expectCode(() => open(1), 'KEY_DISCARDED');
  open(2);
  expectCode(() => open(2), 'DUPLICATE');
  assert.equal(inbound.skipped.length, LIMITS.skippedKeys - 1);
  assert.deepEqual(inbound.discarded.map((r) => [r.from, r.to]), [[0, 2]]);
});

test('a member who holds the chain key still cannot forge the sender: signatures are per sender key', () => {
  const { relay, users, sender } = setup();
  const bob = users[1]!.devices[0]!;
  const carol = users[2]!.devices[0]!;
  distribute(relay, users, sender, [bob, carol]);
  const real = decodeEnvelope(post(sender, 'real')) as ChannelEnvelope;
  // Carol knows the chain key; she re-encrypts different text under it but must sign with a key of her own
  const inbound = carol.store.inboundSenderKey(CHANNEL, sender.address, real.keyId)!;
  const forgedKey = { ...createOutboundSenderKey(CHANNEL, NOW), keyId: real.keyId, chainKey: inbound.chainKey, iteration: inbound.iteration, initialChainKey: inbound.chainKey };
  const forged = senderKeyEncrypt(forgedKey, sender.address, new Uint8Array(256)).envelope;
  expectCode(() => decryptFrame(bob.store, encodeEnvelope(forged), NOW), 'BAD_SIGNATURE');
  const flipped = { ...real, signature: Uint8Array.from(real.signature, (b, i) => (i === 0 ? b ^ 1 : b)) };
  expectCode(() => decryptFrame(bob.store, encodeEnvelope(flipped), NOW), 'BAD_SIGNATURE');
  assert.equal(bodyOf(deliver(bob, encodeEnvelope(real))), 'real', 'the genuine message is unaffected by the rejected ones');
});

test('a new member reads from its join on, not before; a removed member reads nothing after removal', () => {
  const { relay, users, sender } = setup();
  const bob = users[1]!.devices[0]!;
  const carol = users[2]!.devices[0]!;
  distribute(relay, users, sender, [bob]);
  const before = post(sender, 'before carol joined');
  distribute(relay, users, sender, [bob, carol]); // carol joins: no rotation, she gets the chain at the current iteration
  const after = post(sender, 'after carol joined');
  expectCode(() => decryptFrame(carol.store, before, NOW), 'WRONG_RECIPIENT');
  assert.equal(bodyOf(deliver(carol, after)), 'after carol joined');
  // carol is removed: the sender rotates and gives the new key only to bob
  const rotated = distribute(relay, users, sender, [bob], true);
  assert.equal(rotated.rotated, 'member-left');
  const secret = post(sender, 'after carol left');
  const error = expectCode(() => decryptFrame(carol.store, secret, NOW), 'MISSING_SENDER_KEY');
  assert.equal(error.details.deviceId, sender.address.deviceId);
  assert.equal(bodyOf(deliver(bob, secret)), 'after carol left');
  // and carol asking for the new key is refused by the sender: she was never given it
  const ask = requestSenderKey(carol.store, sender.address, CHANNEL, Number(error.details.keyId), NOW);
  carol.store.commit(ask.writes);
  const request = deliver(sender, ask.frames[0]!.frame);
  assert.equal(request.payload.kind, 'sender-key-request');
  expectCode(() => answerSenderKeyRequest(sender.store, carol.address, CHANNEL, Number(error.details.keyId), NOW), 'UNKNOWN_DEVICE');
});

test('a device that missed the distribution asks for the key and then reads the message it held back', () => {
  const { relay, users, sender } = setup();
  const bob = users[1]!.devices[0]!;
  const bob2 = users[1]!.devices[1]!;
  const sessions = [bob, bob2].map((m) => ({ known: knownAccountOf(users[1]!), bundle: relay.bundle(m.address) }));
  const out = prepareChannelKey(sender.store, CHANNEL, [bob.address, bob2.address], NOW, false, sessions);
  sender.store.commit(out.writes);
  deliver(bob, out.frames[0]!.frame); // bob2's distribution is lost in transit
  post(sender, 'first');
  const held = post(sender, 'second');
  const missing = expectCode(() => decryptFrame(bob2.store, held, NOW), 'MISSING_SENDER_KEY');
  // bob2 has no session with the sender yet (the lost frame would have started it), so it starts one to ask
  const ask = requestSenderKey(bob2.store, sender.address, CHANNEL, Number(missing.details.keyId), NOW);
  assert.deepEqual(ask.missing, [sender.address]);
  const withSession = requestSenderKey(bob2.store, sender.address, CHANNEL, Number(missing.details.keyId), NOW, [
    { known: knownAccountOf(users[0]!), bundle: relay.bundle(sender.address) },
  ]);
  bob2.store.commit(withSession.writes);
  deliver(sender, withSession.frames[0]!.frame);
  const answer = answerSenderKeyRequest(sender.store, bob2.address, CHANNEL, Number(missing.details.keyId), NOW);
  sender.store.commit(answer.writes);
  assert.equal(deliver(bob2, answer.frames[0]!.frame).payload.kind, 'sender-key');
  assert.equal(bodyOf(deliver(bob2, held)), 'second');
});

test('a message under a key rotated away is still readable: the sender answers requests for its retired keys', () => {
  const { relay, users, sender } = setup();
  const [bob, bob2] = users[1]!.devices;
  const carol = users[2]!.devices[0]!;
  const sessions = [bob!, bob2!, carol].map((m) => ({ known: knownAccountOf(ownerOf(users, m)), bundle: relay.bundle(m.address) }));
  const first = prepareChannelKey(sender.store, CHANNEL, [bob!.address, bob2!.address, carol.address], NOW, false, sessions);
  sender.store.commit(first.writes);
  // bob2's distribution of the first key is lost; the others arrive
  for (const { to, frame } of first.frames) if (to.deviceId !== bob2!.address.deviceId || to.userId !== 'bob') deliver([bob!, carol].find((d) => d.address.userId === to.userId)!, frame);
  const old = post(sender, 'under the first key');
  // carol leaves: the sender rotates and bob2 does receive the new key (starting its session with the sender)
  const rotated = prepareChannelKey(sender.store, CHANNEL, [bob!.address, bob2!.address], NOW, true);
  sender.store.commit(rotated.writes);
  for (const { to, frame } of rotated.frames) deliver(to.deviceId === bob2!.address.deviceId ? bob2! : bob!, frame);
  const missing = expectCode(() => decryptFrame(bob2!.store, old, NOW), 'MISSING_SENDER_KEY');
  const ask = requestSenderKey(bob2!.store, sender.address, CHANNEL, Number(missing.details.keyId), NOW);
  bob2!.store.commit(ask.writes);
  deliver(sender, ask.frames[0]!.frame);
  const answer = answerSenderKeyRequest(sender.store, bob2!.address, CHANNEL, Number(missing.details.keyId), NOW);
  sender.store.commit(answer.writes);
  deliver(bob2!, answer.frames[0]!.frame);
  assert.equal(bodyOf(deliver(bob2!, old)), 'under the first key');
  // carol, who left, cannot get the new key by asking
  expectCode(() => answerSenderKeyRequest(sender.store, carol.address, CHANNEL, sender.store.outboundSenderKey(CHANNEL)!.keyId, NOW), 'UNKNOWN_DEVICE');
});

test('rotation policy: by message count, by age, on departures; never on joins alone', () => {
  const key = createOutboundSenderKey(CHANNEL, NOW);
  const policy = { maxMessages: 3, maxAgeMs: 1000 };
  assert.equal(senderKeyRotationReason(null, NOW, false, policy), 'no-key');
  assert.equal(senderKeyRotationReason(key, NOW, false, policy), null);
  assert.equal(senderKeyRotationReason(key, NOW, true, policy), 'member-left');
  assert.equal(senderKeyRotationReason({ ...key, iteration: 3 }, NOW, false, policy), 'message-count');
  assert.equal(senderKeyRotationReason(key, NOW + 1000, false, policy), 'age');
});

test('a channel signature covers exactly the documented bytes: framed(label, channel, sender, key id, iteration, ciphertext)', () => {
  const sender = { userId: 'u'.repeat(22), deviceId: 'd'.repeat(12) };
  const outbound = createOutboundSenderKey(CHANNEL, NOW);
  const { envelope } = senderKeyEncrypt(outbound, sender, encodePayload(textPayload('signed')));
  const documented = framed(LABEL.channelMessage, CHANNEL, sender.userId, sender.deviceId, uint32Bytes(envelope.keyId), uint32Bytes(envelope.iteration), envelope.ciphertext);
  assert.deepEqual(channelSignedBytes(envelope), documented);
  assert.equal(verify(envelope.signature, documented, senderKeyDistribution(outbound).signingPublicKey), true);
});
