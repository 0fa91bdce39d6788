// The renderer's byte helpers: base64 both ways (standard and URL-safe, as the contract's fields use both) over
// sizes that cross the slicing boundary, and file sizes as people read them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSize, fromBase64, toBase64 } from '../../../renderer/src/lib/bytes.ts';

test('base64 round trips, standard and URL-safe, across the slice size', () => {
  for (const length of [0, 1, 2, 3, 0x8000 - 1, 0x8000, 0x8000 * 3 + 7]) {
    const bytes = Uint8Array.from({ length }, (_, i) => (i * 131 + 7) % 256);
    const text = toBase64(bytes);
    assert.equal(text, Buffer.from(bytes).toString('base64'));
    assert.deepEqual(fromBase64(text), bytes);
    assert.deepEqual(fromBase64(Buffer.from(bytes).toString('base64url')), bytes, 'URL-safe without padding too');
  }
});

test('sizes as people read them', () => {
  assert.deepEqual([0, 16, 1023, 1024, 2560, 12 * 1024, 1600 * 1024, 3 * 1024 ** 3].map(formatSize), ['0 B', '16 B', '1023 B', '1.0 KB', '2.5 KB', '12 KB', '1.6 MB', '3.0 GB']);
});
