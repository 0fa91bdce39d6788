// randomBytes: the right length (small, and far above a 64 KiB single-syscall size), and not constant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, toHex } from '../../../core/crypto/sodium.ts';

test('randomBytes returns fresh bytes of any length', () => {
  assert.equal(randomBytes(0).length, 0);
  assert.equal(randomBytes(16).length, 16);
  const big = randomBytes(200_000);
  assert.equal(big.length, 200_000);
  // the whole buffer was filled: a zero run of 4 KiB anywhere would be astronomically unlikely
  for (let offset = 0; offset + 4096 <= big.length; offset += 4096) assert.ok(big.subarray(offset, offset + 4096).some((b) => b !== 0), `chunk at ${offset}`);
  const ids = new Set(Array.from({ length: 1000 }, () => toHex(randomBytes(16))));
  assert.equal(ids.size, 1000);
});

test('small requests served across many refills of the internal block are never reused or wiped bytes', () => {
  // 32-byte keys: 3,000 of them span about 24 refills of the 4 KiB block
  const keys = Array.from({ length: 3000 }, () => randomBytes(32));
  assert.equal(new Set(keys.map(toHex)).size, keys.length, 'all distinct');
  assert.ok(keys.every((key) => key.some((b) => b !== 0)), 'none is the zeros a served-then-wiped slot holds');
  // odd sizes straddle the block's end: every byte of each must still be fresh (a run of 8 zero bytes is a 2^-64 event)
  for (let i = 0; i < 2000; i++) {
    const size = 8 + (i % 249);
    const bytes = randomBytes(size);
    assert.equal(bytes.length, size);
    for (let at = 0; at + 8 <= size; at += 8) assert.ok(bytes.subarray(at, at + 8).some((b) => b !== 0), `request ${i}, bytes ${at}..${at + 8}`);
  }
});
