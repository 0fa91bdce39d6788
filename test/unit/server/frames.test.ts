// The hub's frame decoder against hostile bytes: bounded, typed errors only, never a crash or a hang.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeClientFrame, encodeFrame, FrameError, MAX_FRAME_BYTES } from '../../../core/relay/frames.ts';

const validSend = () => ({
  t: 'send' as const, rid: 7, msgId: new Uint8Array(16).fill(1), expiresAt: 1_900_000_000_000,
  to: [{ device: 'A'.repeat(22), body: new Uint8Array([1, 2, 3]) }],
});

describe('client frame decoding', () => {
  it('accepts well-formed frames of each type', () => {
    assert.equal(decodeClientFrame(encodeFrame(validSend())).t, 'send');
    assert.equal(decodeClientFrame(encodeFrame({ t: 'ack', rid: 1, seqs: [1, 2] })).t, 'ack');
    assert.equal(decodeClientFrame(encodeFrame({ t: 'signal', rid: 1, to: 'B'.repeat(22), body: new Uint8Array(4) })).t, 'signal');
    assert.equal(decodeClientFrame(encodeFrame({
      t: 'channel_send', rid: 2, msgId: new Uint8Array(16), expiresAt: 1, channel: 'C'.repeat(22), body: new Uint8Array(1),
    })).t, 'channel_send');
  });

  it('refuses wrong types, unknown fields, path-like ids, oversized frames and too many recipients', () => {
    const cases: unknown[] = [
      { ...validSend(), rid: -1 }, { ...validSend(), extra: true }, { ...validSend(), msgId: 'text' },
      { ...validSend(), to: [{ device: '../../../etc/passwd', body: new Uint8Array(1) }] },
      { ...validSend(), to: Array.from({ length: 1001 }, () => ({ device: 'A'.repeat(22), body: new Uint8Array(1) })) },
      { t: 'ack', rid: 1, seqs: [0] }, { t: 'ack', rid: 1, seqs: [1.5] }, { t: 'deliver' }, 'send', null, [],
    ];
    for (const value of cases) assert.throws(() => decodeClientFrame(encodeFrame(value as never)), FrameError, JSON.stringify(value)?.slice(0, 80));
    assert.throws(() => decodeClientFrame(new Uint8Array(MAX_FRAME_BYTES + 1)), /too large/);
  });

  it('throws only FrameError on random bytes and mutated valid frames (fuzz, fixed seed)', () => {
    const valid = encodeFrame(validSend());
    const mutated = fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })).map(([i, byte]) => {
      const copy = Uint8Array.from(valid);
      copy[i] = byte;
      return copy;
    });
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 512 }), mutated), (bytes) => {
      try {
        decodeClientFrame(bytes);
      } catch (error) {
        assert.ok(error instanceof FrameError, String(error));
      }
    }), { numRuns: 3000, seed: 11 });
  });
});
