// Device authentication. A device proves possession of its signing key by signing a fresh server challenge;
// the server answers with a short-lived bearer token. Tokens and challenges live only in memory (a restart
// signs everyone out, which costs one round trip) and tokens are indexed by their hash.
import { verifySync } from 'otplib';
import { fromBase64Url, randomBytes, toBase64Url, verify } from '../core/crypto/sodium.ts';
import { ApiError } from './errors.ts';
import { newSecret, secretHash } from './ids.ts';

const CHALLENGE_TTL_MS = 60_000;
const MAX_OUTSTANDING_CHALLENGES = 50_000;

export interface Session {
  accountId: string;
  deviceId: string;
  expiresAt: number;
  /** Whether a TOTP code was checked at login; admin and device-link actions may require it by policy. */
  secondFactor: boolean;
}

/**
 * Outstanding login challenges, keyed by the challenge itself: a device may have several at once, so nobody can
 * cancel another device's login by asking for a fresh challenge in its name. Each requester address may hold a
 * bounded number, so one client cannot exhaust the table.
 */
export class Challenges {
  static readonly PER_REQUESTER = 100;
  readonly #byChallenge = new Map<string, { deviceId: string; requester: string; expiresAt: number }>();
  readonly #perRequester = new Map<string, number>();

  issue(deviceId: string, requester: string, now: number): { challenge: string; expiresAt: number } {
    if (this.#byChallenge.size >= MAX_OUTSTANDING_CHALLENGES || (this.#perRequester.get(requester) ?? 0) >= Challenges.PER_REQUESTER) {
      this.sweep(now);
    }
    if (this.#byChallenge.size >= MAX_OUTSTANDING_CHALLENGES) throw new ApiError(503, 'busy', 'too many logins in progress; retry shortly', 5);
    if ((this.#perRequester.get(requester) ?? 0) >= Challenges.PER_REQUESTER) {
      throw new ApiError(429, 'too_many_challenges', 'too many unanswered challenges from this address; retry shortly', 60);
    }
    const challenge = toBase64Url(randomBytes(32));
    const expiresAt = now + CHALLENGE_TTL_MS;
    this.#byChallenge.set(challenge, { deviceId, requester, expiresAt });
    this.#perRequester.set(requester, (this.#perRequester.get(requester) ?? 0) + 1);
    return { challenge, expiresAt };
  }

  /** Returns the challenge bytes if it was issued for this device and is fresh, and forgets it (single use). */
  take(deviceId: string, presented: string, now: number): Uint8Array | null {
    const entry = this.#byChallenge.get(presented);
    if (!entry) return null;
    this.#forget(presented, entry.requester);
    if (entry.deviceId !== deviceId || entry.expiresAt <= now) return null;
    return fromBase64Url(presented);
  }

  sweep(now: number): void {
    for (const [challenge, entry] of this.#byChallenge) if (entry.expiresAt <= now) this.#forget(challenge, entry.requester);
  }

  #forget(challenge: string, requester: string): void {
    this.#byChallenge.delete(challenge);
    const left = (this.#perRequester.get(requester) ?? 1) - 1;
    if (left > 0) this.#perRequester.set(requester, left);
    else this.#perRequester.delete(requester);
  }
}

export class Sessions {
  readonly #byHash = new Map<string, Session>();
  readonly #ttlMs: number;

  constructor(ttlSeconds: number) {
    this.#ttlMs = ttlSeconds * 1000;
  }

  create(accountId: string, deviceId: string, secondFactor: boolean, now: number): { token: string; expiresAt: number } {
    const token = newSecret();
    const expiresAt = now + this.#ttlMs;
    this.#byHash.set(secretHash(token), { accountId, deviceId, expiresAt, secondFactor });
    return { token, expiresAt };
  }

  lookup(token: string, now: number): Session | null {
    const hash = secretHash(token);
    const session = this.#byHash.get(hash);
    if (!session) return null;
    if (session.expiresAt <= now) {
      this.#byHash.delete(hash);
      return null;
    }
    return session;
  }

  revokeDevice(deviceId: string): void {
    for (const [hash, session] of this.#byHash) if (session.deviceId === deviceId) this.#byHash.delete(hash);
  }

  revokeAccount(accountId: string): void {
    for (const [hash, session] of this.#byHash) if (session.accountId === accountId) this.#byHash.delete(hash);
  }

  sweep(now: number): void {
    for (const [hash, session] of this.#byHash) if (session.expiresAt <= now) this.#byHash.delete(hash);
  }
}

/**
 * Failed-attempt limiter with exponential lock-out: after `freeFailures` misses a key is locked for 2 s, then
 * 4 s, 8 s... up to 15 minutes. A success clears it. One instance per kind of key: devices and accounts get few
 * free failures; client addresses get more, since many honest users may share one address behind a NAT.
 */
export class Backoff {
  static readonly MAX_LOCK_MS = 15 * 60_000;
  readonly #entries = new Map<string, { failures: number; lockedUntil: number }>();
  readonly #freeFailures: number;

  constructor(freeFailures: number) {
    this.#freeFailures = freeFailures;
  }

  check(key: string, now: number): void {
    const entry = this.#entries.get(key);
    if (entry && entry.lockedUntil > now) {
      const seconds = Math.ceil((entry.lockedUntil - now) / 1000);
      throw new ApiError(429, 'locked_out', `too many failed attempts; retry in ${seconds} s`, seconds);
    }
  }

  fail(key: string, now: number): void {
    const entry = this.#entries.get(key) ?? { failures: 0, lockedUntil: 0 };
    entry.failures++;
    if (entry.failures >= this.#freeFailures) {
      const lockMs = Math.min(Backoff.MAX_LOCK_MS, 1000 * 2 ** Math.min(20, entry.failures - this.#freeFailures + 1));
      entry.lockedUntil = now + lockMs;
    }
    this.#entries.set(key, entry);
  }

  succeed(key: string): void {
    this.#entries.delete(key);
  }

  sweep(now: number): void {
    // Forget keys idle for longer than the longest lock, so the map cannot grow without bound.
    for (const [key, entry] of this.#entries) if (entry.lockedUntil + Backoff.MAX_LOCK_MS < now) this.#entries.delete(key);
  }
}

export function checkDeviceSignature(publicKey: Uint8Array, message: Uint8Array, signatureB64: string): boolean {
  let signature: Uint8Array;
  try {
    signature = fromBase64Url(signatureB64);
  } catch {
    return false;
  }
  return verify(signature, message, publicKey);
}

/** The time step a TOTP code belongs to (now or one step either side, for clock drift), or null if it is wrong. */
export function totpStep(secret: string, code: string): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  try {
    const result = verifySync({ secret, token: code, epochTolerance: 30 });
    // TOTP results carry the matched time step; the union type also covers HOTP, which has none.
    const step = (result as { timeStep?: number }).timeStep;
    return result.valid && typeof step === 'number' ? step : null;
  } catch {
    return null;
  }
}

/**
 * Each TOTP code is accepted once (RFC 6238 section 5.2): a code seen over someone's shoulder or phished and
 * replayed within its 30-second window is refused. Remembers the last accepted step per account.
 */
export class TotpReplayGuard {
  readonly #lastStep = new Map<string, number>();

  accept(accountId: string, step: number): boolean {
    if (step <= (this.#lastStep.get(accountId) ?? -1)) return false;
    this.#lastStep.set(accountId, step);
    return true;
  }
}
