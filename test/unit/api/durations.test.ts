import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DurationError, formatDuration, parseDuration, shortDuration } from '../../../core/api/durations.ts';

test('durations are read as people write them, 5 seconds to 365 days', () => {
  assert.deepEqual(['10s', '5m', '2h', '7d', '45', '365d', '5', ' 3H '].map(parseDuration), [10, 300, 7200, 604_800, 45, 31_536_000, 5, 10_800]);
  for (const [text, reason] of [['4s', /at least 5 seconds/], ['366d', /at most 365 days/], ['1w', /not a duration/], ['', /not a duration/], ['-5s', /not a duration/], ['1.5h', /not a duration/], ['9'.repeat(12), /not a duration/]] as const) {
    assert.throws(() => parseDuration(text), (e: Error) => e instanceof DurationError && reason.test(e.message), text);
  }
});

test('durations are written back in the largest exact unit', () => {
  assert.deepEqual([86_400, 5400, 3600, 90, 1].map(formatDuration), ['1 day', '90 minutes', '1 hour', '90 seconds', '1 second']);
  assert.deepEqual([86_400, 5400, 90].map(shortDuration), ['1d', '90m', '90s']);
  for (const s of [5, 60, 3600, 86_400 * 7, 5400]) assert.equal(parseDuration(shortDuration(s)), s);
});
