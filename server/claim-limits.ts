// Rate limits on prekey-bundle claims, per authenticated claimer. Each bundle claimed takes a one-time key of each
// kind from its device, so an unlimited claimer could drain any device and leave every new session without one.
// Two token buckets, counted in bundles:
//  - per claimer account and target device: a burst for every device of one account starting sessions at once (and
//    a few resets), then a few an hour. This is what protects a device: no one account can take more than a
//    trickle of its one-time keys, so its top-ups always keep ahead;
//  - per claimer account over all targets: a burst for joining a channel of hundreds of members, each with several
//    devices, then a steady rate no client reaches by sending messages.
// A claim that does not fit is refused whole (HTTP 429 with Retry-After) and takes nothing.
import { ApiError } from './errors.ts';

export interface Bucket {
  burst: number;
  perSecond: number;
}

export const CLAIM_LIMITS = {
  perTargetDevice: { burst: 10, perSecond: 1 / 360 },
  perClaimer: { burst: 5_000, perSecond: 1 },
} as const satisfies Record<string, Bucket>;

interface Level {
  tokens: number;
  at: number;
}

/** Buckets at rest refill to full; a full bucket is forgotten, so memory follows recent claimers only. */
class Buckets {
  readonly #limit: Bucket;
  readonly #levels = new Map<string, Level>();

  constructor(limit: Bucket) {
    this.#limit = limit;
  }

  /** Tokens available at `now`. */
  available(key: string, now: number): number {
    const level = this.#levels.get(key);
    if (!level) return this.#limit.burst;
    return Math.min(this.#limit.burst, level.tokens + ((now - level.at) / 1000) * this.#limit.perSecond);
  }

  /** Seconds until `count` tokens are available. */
  waitSeconds(key: string, count: number, now: number): number {
    return Math.ceil(Math.max(0, count - this.available(key, now)) / this.#limit.perSecond);
  }

  take(key: string, count: number, now: number): void {
    this.#levels.set(key, { tokens: this.available(key, now) - count, at: now });
  }

  sweep(now: number): void {
    for (const key of this.#levels.keys()) if (this.available(key, now) >= this.#limit.burst) this.#levels.delete(key);
  }

  get size(): number {
    return this.#levels.size;
  }
}

export class ClaimLimiter {
  readonly #perTarget: Buckets;
  readonly #perClaimer: Buckets;
  #takesSinceSweep = 0;

  constructor(limits: { perTargetDevice: Bucket; perClaimer: Bucket } = CLAIM_LIMITS) {
    this.#perTarget = new Buckets(limits.perTargetDevice);
    this.#perClaimer = new Buckets(limits.perClaimer);
  }

  /** Takes one claim for each target device, or throws a 429 and takes nothing. */
  take(claimerAccount: string, targetDevices: readonly string[], now: number): void {
    const pairKey = (device: string) => JSON.stringify([claimerAccount, device]);
    const wait = Math.max(
      this.#perClaimer.waitSeconds(claimerAccount, targetDevices.length, now),
      ...targetDevices.map((device) => this.#perTarget.waitSeconds(pairKey(device), 1, now)),
    );
    if (wait > 0) {
      throw new ApiError(429, 'rate_limited', `too many prekey claims from this account; retry in ${wait} s`, wait);
    }
    this.#perClaimer.take(claimerAccount, targetDevices.length, now);
    for (const device of targetDevices) this.#perTarget.take(pairKey(device), 1, now);
    if (++this.#takesSinceSweep >= 1000) {
      this.#takesSinceSweep = 0;
      this.#perTarget.sweep(now);
      this.#perClaimer.sweep(now);
    }
  }

  /** Buckets currently remembered (for tests: memory must follow recent claimers only). */
  get tracked(): number {
    return this.#perTarget.size + this.#perClaimer.size;
  }
}
