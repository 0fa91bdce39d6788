// Reconnect delays: exponential with full jitter, so a relay restart is not met by every client at the same instant.

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  random?: () => number;
}

export function createBackoff({ baseMs, maxMs, random = Math.random }: BackoffOptions) {
  let attempt = 0;
  return {
    /** The delay before the next attempt: uniform in [0, min(max, base * 2^attempt)]. */
    next(): number {
      const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
      attempt++;
      return Math.floor(random() * ceiling);
    },
    reset(): void {
      attempt = 0;
    },
    get attempts(): number {
      return attempt;
    },
  };
}
