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
