// Timer durations as people write them: `10s`, `5m`, `2h`, `7d`, or plain seconds. One parser for the command line
// and the contract's bounds, so `--expire 1d` and a UI's picker mean the same seconds and fail the same way.

export const MIN_TIMER_SECONDS = 5;
export const MAX_TIMER_SECONDS = 365 * 86_400;

const UNITS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

export class DurationError extends Error {
  override readonly name = 'DurationError';
}

/** Seconds for `30s`, `5m`, `2h`, `7d` or `45`; throws DurationError with a one-line reason otherwise. */
export function parseDuration(text: string): number {
  const match = /^\s*(\d{1,9})\s*([smhd]?)\s*$/i.exec(text);
  if (!match) throw new DurationError(`"${text.slice(0, 40)}" is not a duration: write it like 30s, 5m, 2h or 7d`);
  const unit = (match[2]!.toLowerCase() || 's') as keyof typeof UNITS;
  const seconds = Number(match[1]) * UNITS[unit];
  if (seconds < MIN_TIMER_SECONDS) throw new DurationError(`timers are at least ${MIN_TIMER_SECONDS} seconds`);
  if (seconds > MAX_TIMER_SECONDS) throw new DurationError('timers are at most 365 days');
  return seconds;
}

/** "1 day", "90 minutes", "30 seconds": the largest unit that divides the duration exactly. */
export function formatDuration(seconds: number): string {
  for (const [name, size] of [['day', 86_400], ['hour', 3600], ['minute', 60]] as const) {
    if (seconds >= size && seconds % size === 0) return plural(seconds / size, name);
  }
  return plural(seconds, 'second');
}

/** The compact form the parser reads back: `1d`, `90m`, `30s`. */
export function shortDuration(seconds: number): string {
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60]] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
