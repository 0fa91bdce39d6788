// When a message must be gone: the pure arithmetic of expiry and burn-on-read under the org policy, shared by
// sending and receiving, so every device of every participant computes the same (or an earlier) deadline.
import { EngineError } from '../errors.ts';
import type { PolicyDocument } from '../policy/document.ts';

export interface ResolvedTimers {
  /** the absolute deadline, or null for a message that does not expire */
  expiresAt: number | null;
  burnSeconds: number | null;
  /** the org policy shortened what was asked (or gave a timer where none was asked) */
  clamped: boolean;
}

export interface SendTimers {
  expireSeconds: number | null;
  burnSeconds: number | null;
  clamped: boolean;
}

export interface ConversationTimer {
  expireSeconds: number | null;
  burnSeconds: number | null;
}

/**
 * What a send carries: the message's own timers, else the conversation's default, else the policy's default;
 * each capped by the policy. Where the policy caps expiry, a message without any timer gets the cap. A policy
 * that requires a timer refuses a send that ends up with none.
 */
export function timersForSend(asked: { expiresInSeconds?: number | undefined; burnAfterReadSeconds?: number | undefined } | undefined,
  conversation: ConversationTimer | null, policy: PolicyDocument): SendTimers {
  const wanted = asked?.expiresInSeconds ?? conversation?.expireSeconds ?? policy.defaultExpireSeconds ?? null;
  const burn = asked?.burnAfterReadSeconds ?? conversation?.burnSeconds ?? null;
  const expire = cap(wanted, policy.maxExpireSeconds);
  const burnCapped = burn === null ? null : Math.min(burn, policy.maxBurnSeconds ?? burn);
  if (policy.requireTimer && expire.seconds === null) {
    throw new EngineError('INVALID', 'the org policy requires every message to disappear: give it a timer (for example --expire 1d)');
  }
  return { expireSeconds: expire.seconds, burnSeconds: burnCapped, clamped: expire.clamped || burnCapped !== burn };
}

/**
 * What a received message's deadline is. The sender states its life as an absolute deadline by its own clock; the
 * life is that minus its stated sending time, counted from the earlier of that time and the relay's receipt, so
 * a sender's clock running ahead never lengthens it. Then the policy in force here caps it, whatever the sender
 * claimed. Returns expiresAt <= now for a message whose time is already up (it is never stored).
 */
export function timersForReceived(stated: { sentAt: number; expiresAt: number | null; burnAfterReadSeconds: number | null } | null,
  relayReceivedAt: number, policy: PolicyDocument): ResolvedTimers {
  const start = Math.min(stated?.sentAt ?? relayReceivedAt, relayReceivedAt);
  const lifeMs = stated?.expiresAt != null ? Math.max(0, stated.expiresAt - stated.sentAt) : null;
  let expiresAt = lifeMs === null ? null : start + lifeMs;
  let clamped = false;
  if (policy.maxExpireSeconds !== undefined) {
    const limit = start + policy.maxExpireSeconds * 1000;
    if (expiresAt === null || expiresAt > limit) {
      expiresAt = limit;
      clamped = true;
    }
  } else if (expiresAt === null && policy.requireTimer && policy.defaultExpireSeconds !== undefined) {
    expiresAt = start + policy.defaultExpireSeconds * 1000;
    clamped = true;
  }
  const burn = stated?.burnAfterReadSeconds ?? null;
  const burnSeconds = burn === null || policy.maxBurnSeconds === undefined ? burn : Math.min(burn, policy.maxBurnSeconds);
  return { expiresAt, burnSeconds, clamped: clamped || burnSeconds !== burn };
}

/** The deadline a first display sets: `burnSeconds` after it, never later than the expiry already set. */
export const burnDeadline = (expiresAt: number | null, displayedAt: number, burnSeconds: number): number =>
  Math.min(expiresAt ?? Infinity, displayedAt + burnSeconds * 1000);

function cap(seconds: number | null, max: number | undefined): { seconds: number | null; clamped: boolean } {
  if (max === undefined) return { seconds, clamped: false };
  if (seconds === null) return { seconds: max, clamped: true };
  return seconds > max ? { seconds: max, clamped: true } : { seconds, clamped: false };
}
