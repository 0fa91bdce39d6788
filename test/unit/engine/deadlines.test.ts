import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_POLICY, type PolicyDocument } from '../../../core/engine/policy/document.ts';
import { TrustedClock } from '../../../core/engine/timers/clock.ts';
import { burnDeadline, timersForReceived, timersForSend } from '../../../core/engine/timers/deadlines.ts';

const T = 1_800_000_000_000;
const policy = (p: Partial<PolicyDocument>) => ({ version: 1, ...p }) as PolicyDocument;

test('a received life counts from the earlier of the sender\'s time and the relay\'s receipt', () => {
  // the sender's clock an hour ahead: its deadline says an hour more, the relay's receipt does not
  assert.equal(timersForReceived({ sentAt: T + 3_600_000, expiresAt: T + 3_600_000 + 30_000, burnAfterReadSeconds: null }, T, NO_POLICY).expiresAt, T + 30_000);
  // the sender's clock behind: its own time is the earlier start
  assert.equal(timersForReceived({ sentAt: T - 60_000, expiresAt: T - 30_000, burnAfterReadSeconds: null }, T, NO_POLICY).expiresAt, T - 30_000);
  assert.deepEqual(timersForReceived(null, T, NO_POLICY), { expiresAt: null, burnSeconds: null, clamped: false });
});

test('the policy caps a received message, and gives one without a timer the maximum', () => {
  const p = policy({ maxExpireSeconds: 3600, maxBurnSeconds: 10 });
  assert.deepEqual(timersForReceived({ sentAt: T, expiresAt: T + 86_400_000, burnAfterReadSeconds: 60 }, T, p), { expiresAt: T + 3_600_000, burnSeconds: 10, clamped: true });
  assert.deepEqual(timersForReceived(null, T, p), { expiresAt: T + 3_600_000, burnSeconds: null, clamped: true });
  assert.deepEqual(timersForReceived({ sentAt: T, expiresAt: T + 60_000, burnAfterReadSeconds: 5 }, T, p), { expiresAt: T + 60_000, burnSeconds: 5, clamped: false });
});

test('a send takes its own timers, else the conversation\'s, else the policy\'s default, capped; a required timer is required', () => {
  assert.deepEqual(timersForSend({ expiresInSeconds: 30 }, { expireSeconds: 86_400, burnSeconds: null }, NO_POLICY), { expireSeconds: 30, burnSeconds: null, clamped: false });
  assert.deepEqual(timersForSend(undefined, { expireSeconds: 86_400, burnSeconds: 10 }, NO_POLICY), { expireSeconds: 86_400, burnSeconds: 10, clamped: false });
  assert.deepEqual(timersForSend(undefined, null, policy({ defaultExpireSeconds: 600 })), { expireSeconds: 600, burnSeconds: null, clamped: false });
  assert.deepEqual(timersForSend({ expiresInSeconds: 86_400, burnAfterReadSeconds: 600 }, null, policy({ maxExpireSeconds: 3600, maxBurnSeconds: 60 })), { expireSeconds: 3600, burnSeconds: 60, clamped: true });
  assert.throws(() => timersForSend(undefined, null, policy({ requireTimer: true })), /requires every message to disappear/);
});

test('burn-on-read never runs past the expiry', () => {
  assert.equal(burnDeadline(T + 5000, T, 10), T + 5000);
  assert.equal(burnDeadline(null, T, 10), T + 10_000);
});

test('the trusted clock is never behind the relay\'s last-seen time advanced by elapsed time', () => {
  let wall = T;
  let mono = 0;
  const clock = new TrustedClock(() => wall, () => mono);
  clock.observeRelayTime(T);
  wall = T - 3_600_000; // turned back an hour
  mono = 5000;
  assert.equal(clock.now(), T + 5000);
  wall = T + 3_600_000; // turned forward: the wall clock is the later bound
  assert.equal(clock.now(), T + 3_600_000);
  clock.observeRelayTime(T - 10_000); // an older relay time moves nothing
  wall = 0;
  assert.equal(clock.now(), T + 5000);
});
