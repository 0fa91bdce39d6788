// The wire format: every payload kind round-trips, padding hides exact sizes, and decoders are strict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeCbor } from '../../../core/protocol/codec.ts';
import { ProtocolError } from '../../../core/protocol/errors.ts';
import { LIMITS } from '../../../core/protocol/limits.ts';
import { decodeEnvelope, decodePayload, encodeEnvelope, encodePayload, type Payload, type PayloadContent } from '../../../core/protocol/wire.ts';

const id = () => crypto.getRandomValues(new Uint8Array(16));
const k32 = () => crypto.getRandomValues(new Uint8Array(32));
const codeOf = (code: string) => (e: unknown) => e instanceof ProtocolError && e.code === code;
const base = { sentAt: 1_790_000_000_000, timers: { expiresAt: 1_790_000_060_000, burnAfterReadSeconds: 30 }, syncTo: null, group: null };

const contents: PayloadContent[] = [
  { kind: 'text', body: 'hello 👋' },
  { kind: 'reply', target: id(), body: 'yes' },
  { kind: 'edit', target: id(), body: 'fixed' },
  { kind: 'delete', target: id() },
  { kind: 'reaction', target: id(), emoji: '👍', remove: false },
  { kind: 'file', files: [{ blobId: 'AAAAAAAAAAAAAAAAAAAAAA', key: k32(), digest: k32(), size: 123_456, name: 'report.pdf', mime: 'application/pdf', thumbnail: null }], caption: null, replyTo: null },
  { kind: 'call', callId: id(), signal: 'offer', data: 'v=0 sdp' },
  { kind: 'sender-key', distribution: { channelId: 'general', keyId: 7, iteration: 3, chainKey: k32(), signingPublicKey: k32() } },
  { kind: 'sender-key-request', channelId: 'general', keyId: 7 },
  { kind: 'channel-key', channelId: 'general', keys: [{ keyId: 9, key: k32() }, { keyId: 10, key: k32() }] },
  { kind: 'channel-key-request', channelId: 'general', keyId: 9 },
  { kind: 'receipt', receipt: 'read', targets: [id(), id()] },
  { kind: 'session-reset', brokenSessionId: id(), reason: 'no-session' },
];

test('every payload kind round-trips with its timers inside the encrypted part', () => {
  for (const content of contents) {
    const payload = { ...base, id: id(), ...content } as Payload;
    assert.deepEqual(decodePayload(encodePayload(payload)), payload, content.kind);
  }
});

test('padding: sizes are powers of two from 256 bytes, so lengths within a bucket look the same', () => {
  const sizeFor = (n: number) => encodePayload({ ...base, id: id(), kind: 'text', body: 'x'.repeat(n) }).length;
  assert.equal(sizeFor(1), 256);
  assert.equal(sizeFor(50), 256);
  assert.equal(sizeFor(300), 512);
  assert.equal(sizeFor(850), 1024);
  assert.equal(sizeFor(LIMITS.textBytes), 128 * 1024);
  assert.throws(() => decodePayload(new Uint8Array(256)), codeOf('MALFORMED'), 'all-zero padding has no marker');
});

test('payload decoding refuses unknown versions and kinds, extra and missing fields, wrong types, oversize fields', () => {
  const pad = (value: unknown) => {
    const bytes = encodeCbor(value);
    const out = new Uint8Array(bytes.length + 1);
    out.set(bytes);
    out[bytes.length] = 0x80;
    return out;
  };
  const good = { v: 1, ...base, id: id(), kind: 'text', body: 'hi' };
  assert.equal(decodePayload(pad(good)).kind, 'text');
  assert.throws(() => decodePayload(pad({ ...good, v: 2 })), codeOf('UNKNOWN_VERSION'));
  assert.throws(() => decodePayload(pad({ ...good, kind: 'poll' })), codeOf('MALFORMED'));
  assert.throws(() => decodePayload(pad({ ...good, extra: 1 })), codeOf('MALFORMED'));
  const { body: _body, ...missing } = good;
  assert.throws(() => decodePayload(pad(missing)), codeOf('MALFORMED'));
  assert.throws(() => decodePayload(pad({ ...good, sentAt: '2026' })), codeOf('MALFORMED'));
  assert.throws(() => decodePayload(pad({ ...good, id: new Uint8Array(17) })), codeOf('OVERSIZED'));
  assert.throws(() => decodePayload(pad({ ...good, body: 'x'.repeat(LIMITS.textBytes + 1) })), codeOf('OVERSIZED'));
  assert.throws(() => encodePayload({ ...base, id: id(), kind: 'text', body: 'x'.repeat(LIMITS.textBytes + 1) }), codeOf('OVERSIZED'));
});

test('envelope decoding: unknown version, oversized frame, oversized id, trailing bytes', () => {
  const envelope = {
    kind: 'channel' as const, channelId: 'general', from: { userId: 'alice', deviceId: 'd0' }, keyId: 1, iteration: 0,
    ciphertext: new Uint8Array(32), signature: new Uint8Array(64),
  };
  assert.deepEqual(decodeEnvelope(encodeEnvelope(envelope)), envelope);
  assert.throws(() => decodeEnvelope(encodeCbor({ v: 9, ...envelope })), codeOf('UNKNOWN_VERSION'));
  assert.throws(() => decodeEnvelope(new Uint8Array(LIMITS.frameBytes + 1)), codeOf('OVERSIZED'));
  assert.throws(() => decodeEnvelope(encodeCbor({ v: 1, ...envelope, channelId: 'c'.repeat(LIMITS.idBytes + 1) })), codeOf('OVERSIZED'));
  const frame = encodeEnvelope(envelope);
  assert.throws(() => decodeEnvelope(Uint8Array.of(...frame, 0)), codeOf('MALFORMED'));
  assert.throws(() => decodeEnvelope(frame.subarray(0, frame.length - 1)), codeOf('MALFORMED'));
  assert.throws(() => decodeEnvelope(new Uint8Array(0)), codeOf('MALFORMED'));
});

test('a channel payload carries its sender\'s membership log head inside the encryption; a malformed head is refused', () => {
  const membership = { seq: 41, head: k32() };
  for (const content of contents) {
    const payload = { ...base, id: id(), ...content, membership } as Payload;
    assert.deepEqual(decodePayload(encodePayload(payload)).membership, membership, content.kind);
  }
  const without = { ...base, id: id(), kind: 'text', body: 'hi' } as Payload;
  assert.equal('membership' in decodePayload(encodePayload(without)), false, 'left out when not given: pairwise payloads encode as before');
  for (const head of [{ seq: 1, head: new Uint8Array(31) }, { seq: -1, head: k32() }, { seq: 1 }]) {
    const bad = { ...base, id: id(), kind: 'text', body: 'hi', membership: head } as unknown as Payload;
    assert.throws(() => encodePayload(bad), codeOf('MALFORMED'));
  }
});
