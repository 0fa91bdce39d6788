// The still a sender's device draws for a video or a PDF: every canvas fits the still's edge whatever size the
// source claims (a PDF page may say it is kilometres wide, or a hair high), nothing is enlarged, a size that is not
// one draws nothing; and the deadline that bounds drawing rejects work that never ends, and passes through the rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { beforeDeadline, fitStill, STILL_EDGE } from '../../../renderer/src/lib/still-bounds.ts';

test('a still fits the edge, keeps its shape, is never enlarged and never empty', () => {
  assert.deepEqual(fitStill(640, 360), { width: 320, height: 180, scale: 0.5 });
  assert.deepEqual(fitStill(595.28, 841.89), { width: 226, height: 320, scale: STILL_EDGE / 841.89 }, 'an A4 page');
  assert.deepEqual(fitStill(100, 50), { width: 100, height: 50, scale: 1 }, 'small sources stay their size');
  for (const [w, h] of [[1e9, 1e9], [14_400, 1], [1, 1e12], [1e-3, 1e-3], [Number.MAX_VALUE, 2]] as const) {
    const size = fitStill(w, h)!;
    assert.ok(size.width >= 1 && size.width <= STILL_EDGE && size.height >= 1 && size.height <= STILL_EDGE, `${w} x ${h} -> ${size.width} x ${size.height}`);
  }
  for (const [w, h] of [[0, 10], [10, -1], [Number.NaN, 10], [Number.POSITIVE_INFINITY, 10]] as const) assert.equal(fitStill(w, h), null, `${w} x ${h}`);
});

test('the deadline rejects work that never ends, and passes results and failures through', async () => {
  await assert.rejects(beforeDeadline(new Promise(() => {}), 20), /timed out/);
  assert.equal(await beforeDeadline(Promise.resolve('page'), 1000), 'page');
  await assert.rejects(beforeDeadline(Promise.reject(new Error('broken PDF')), 1000), /broken PDF/);
});
