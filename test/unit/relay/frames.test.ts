// The relay's frame codec against hostile bytes, both ways (the hub decodes client frames, the engine decodes the
// relay's): bounded, typed errors only, never a crash or a hang.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeClientFrame, decodeNotice, decodeServerFrame, deliverFrameEncoder, encodeFrame, FrameError, MAX_FRAME_BYTES } from '../../../core/relay/frames.ts';

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

const ID = 'D'.repeat(22);
const validDeliver = () => ({
  t: 'deliver' as const, seq: 5, msgId: new Uint8Array(16).fill(2), from: { account: ID, device: ID }, channel: null,
  body: new Uint8Array([9, 9]), sentAt: 1_900_000_000_000, expiresAt: 1_900_000_100_000,
});

/** Mutations of a valid encoding: one byte changed anywhere. */
function mutationsOf(valid: Uint8Array) {
  return fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })).map(([i, byte]) => {
    const copy = Uint8Array.from(valid);
    copy[i] = byte;
    return copy;
  });
}

describe('server frame decoding (the engine\'s side)', () => {
  it('accepts every frame type the relay sends, events included', () => {
    const frames = [
      validDeliver(), { ...validDeliver(), from: null, channel: ID }, { t: 'sent', rid: 1, duplicate: false }, { t: 'acked', rid: 2, removed: 3 },
      { t: 'signalled', rid: 4 }, { t: 'event', kind: 'queue_empty' }, { t: 'event', kind: 'prekeys_low', remaining: 3 },
      { t: 'event', kind: 'device_list', account: ID }, { t: 'event', kind: 'signal', from: { account: ID, device: ID }, body: new Uint8Array(3) },
      { t: 'error', rid: null, code: 'bad_frame', message: 'no' },
    ];
    // decoded byte fields are Buffers: compare the re-encoded bytes
    for (const frame of frames) assert.deepEqual(Buffer.from(encodeFrame(decodeServerFrame(encodeFrame(frame as never)))), Buffer.from(encodeFrame(frame as never)), frame.t);
  });

  it('refuses what the relay must not send: unknown kinds and fields, wrong sizes, a sender without a device', () => {
    const cases: unknown[] = [
      { ...validDeliver(), extra: 1 }, { ...validDeliver(), msgId: new Uint8Array(15) }, { ...validDeliver(), seq: 0 },
      { ...validDeliver(), from: { account: ID } }, { ...validDeliver(), channel: '../x' }, { ...validDeliver(), body: new Uint8Array(0) },
      { t: 'event', kind: 'queue_empty', extra: true }, { t: 'event', kind: 'unknown' }, { t: 'sent', rid: 1 }, { t: 'error', rid: null, code: 'x'.repeat(65), message: '' },
    ];
    for (const value of cases) assert.throws(() => decodeServerFrame(encodeFrame(value as never)), FrameError, JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? `bytes${v.length}` : v)).slice(0, 80));
    assert.throws(() => decodeServerFrame(new Uint8Array(MAX_FRAME_BYTES + 1)), /too large/);
  });

  it('decodes membership notices strictly', () => {
    const notice = { kind: 'membership' as const, channel: ID, change: 'removed' as const, accounts: [ID], by: ID, role: null };
    assert.deepEqual(decodeNotice(encodeFrame(notice)), notice);
    assert.throws(() => decodeNotice(encodeFrame({ ...notice, change: 'kicked' } as never)), FrameError);
    assert.throws(() => decodeNotice(encodeFrame({ ...notice, accounts: Array.from({ length: 1001 }, () => ID) } as never)), FrameError);
  });

  it('throws only FrameError on random bytes and mutated frames and notices (fuzz, fixed seed)', () => {
    const notice = encodeFrame({ kind: 'membership', channel: ID, change: 'joined', accounts: [ID], by: ID, role: 'member' });
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 512 }), mutationsOf(encodeFrame(validDeliver())), mutationsOf(notice)), (bytes) => {
      for (const decode of [decodeServerFrame, decodeNotice]) {
        try {
          decode(bytes);
        } catch (error) {
          assert.ok(error instanceof FrameError, String(error));
        }
      }
    }), { numRuns: 3000, seed: 12 });
  });
});


describe('deliver frames encoded once per fan-out', () => {
  it('decode to exactly the frame encodeFrame would have sent, at every seq width', () => {
    const shared = {
      t: 'deliver' as const, msgId: new Uint8Array(16).fill(7), from: { account: 'A'.repeat(22), device: 'D'.repeat(22) },
      channel: 'C'.repeat(22), body: new Uint8Array(300).fill(9), sentAt: 1_700_000_000_000, expiresAt: 1_700_000_360_000,
    };
    for (const fields of [shared, { ...shared, from: null, channel: null }]) { // a message, and a server notice
      const encode = deliverFrameEncoder(fields);
      // one value on each side of every CBOR integer width boundary, up to the largest seq the schema allows
      for (const seq of [1, 23, 24, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
        // (as Buffers both: cbor-x decodes byte strings to views of the same class as its input)
        assert.deepEqual(decodeServerFrame(Buffer.from(encode(seq))), decodeServerFrame(encodeFrame({ ...fields, seq })), `seq ${seq}`);
      }
      // and it really splices: the shared fields' encoding (after its 3-byte map header) ends every frame
      const sharedBytes = new Uint8Array(encodeFrame(fields as never).subarray(3)); // what the encoder shares: the fields without seq
      assert.deepEqual(new Uint8Array(encode(7).subarray(-sharedBytes.length)), sharedBytes);
    }
  });
});
