// The prekey-claim limiter's arithmetic, on explicit clocks: a normal client's bursts pass, a drainer is held to a
// trickle per target device, a refused claim takes nothing, and idle buckets are forgotten.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../../server/errors.ts';
import { CLAIM_LIMITS, ClaimLimiter } from '../../../server/claim-limits.ts';

const T0 = 1_000_000;
const devices = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${i}`);
const refusedFor = (seconds: number) => (e: unknown) => e instanceof ApiError && e.status === 429 && e.code === 'rate_limited' && e.retryAfterSeconds === seconds;

describe('prekey claim limits', () => {
  it('lets an account start sessions with a channel of a thousand devices at once, then holds it to the steady rate', () => {
    const limiter = new ClaimLimiter();
    // 1,000 members' devices in requests of 100 (one account's claim names at most 100 devices)
    for (let i = 0; i < 10; i++) limiter.take('alice', devices(`m${i}-`, 100), T0);
    // the rest of the burst, then one more device than it holds
    const rest = CLAIM_LIMITS.perClaimer.burst - 1000;
    for (let i = 0; i < rest / 100; i++) limiter.take('alice', devices(`n${i}-`, 100), T0);
    assert.throws(() => limiter.take('alice', ['late'], T0), refusedFor(1));
    limiter.take('alice', ['late'], T0 + 1000);
    limiter.take('bob', devices('b', 100), T0); // per claimer: bob has his own budget
  });

  it('holds one account to a trickle of one device\'s keys, whatever its overall budget, and a refusal takes nothing', () => {
    const limiter = new ClaimLimiter();
    for (let i = 0; i < CLAIM_LIMITS.perTargetDevice.burst; i++) limiter.take('mallory', ['victim'], T0);
    const refill = 1 / CLAIM_LIMITS.perTargetDevice.perSecond;
    assert.throws(() => limiter.take('mallory', ['victim'], T0), refusedFor(refill));
    // a claim naming the exhausted device and others is refused whole: the others' tokens are not taken
    assert.throws(() => limiter.take('mallory', ['victim', 'other'], T0), ApiError);
    for (let i = 0; i < CLAIM_LIMITS.perTargetDevice.burst; i++) limiter.take('mallory', ['other'], T0);
    limiter.take('mel', ['victim'], T0); // another account is not held by mallory's claims
    assert.throws(() => limiter.take('mallory', ['victim'], T0 + refill * 1000 - 1), ApiError);
    limiter.take('mallory', ['victim'], T0 + refill * 1000); // one more per refill period
  });

  it('forgets buckets that have refilled, so memory follows recent claimers only', () => {
    const limiter = new ClaimLimiter();
    for (let i = 0; i < 999; i++) limiter.take(`a${i}`, ['d'], T0);
    assert.equal(limiter.tracked, 2 * 999);
    const later = T0 + (CLAIM_LIMITS.perTargetDevice.burst / CLAIM_LIMITS.perTargetDevice.perSecond) * 1000;
    limiter.take('fresh', ['d'], later); // the thousandth take sweeps
    assert.equal(limiter.tracked, 2, 'only the fresh claimer is left');
  });
});
