// Timer choices the app offers and how a remaining life reads. The engine takes seconds (5 s to 365 days) and
// enforces the org policy; the app offers a few round values rather than a free-form duration.

export interface TimerChoice {
  seconds: number;
  label: string;
}

export const EXPIRE_CHOICES: TimerChoice[] = [
  { seconds: 30, label: '30 seconds' }, { seconds: 300, label: '5 minutes' }, { seconds: 3600, label: '1 hour' },
  { seconds: 86_400, label: '1 day' }, { seconds: 604_800, label: '7 days' }, { seconds: 2_592_000, label: '30 days' },
];

export const BURN_CHOICES: TimerChoice[] = [
  { seconds: 10, label: '10 seconds' }, { seconds: 60, label: '1 minute' }, { seconds: 300, label: '5 minutes' }, { seconds: 3600, label: '1 hour' },
];

/** "1 day", "90 minutes", "30 seconds": the largest unit that divides the duration exactly. */
export function durationLabel(seconds: number): string {
  for (const [unit, size] of [['day', 86_400], ['hour', 3600], ['minute', 60]] as const) {
    if (seconds >= size && seconds % size === 0) return plural(seconds / size, unit);
  }
  return plural(seconds, 'second');
}

/** What is left of a life, rounded down to one unit: "4 s", "12 min", "3 h", "2 days". */
export function remaining(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h`;
  return plural(Math.floor(s / 86_400), 'day');
}

/** The choices with `current` added when it is not one of them (a value set elsewhere, by the CLI say). */
export function withCurrent(choices: TimerChoice[], current: number | undefined): TimerChoice[] {
  return current === undefined || choices.some((c) => c.seconds === current) ? choices : [...choices, { seconds: current, label: durationLabel(current) }];
}

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
