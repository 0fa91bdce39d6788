// Times as the message list shows them, in the user's own locale and time zone.

/** The local calendar day of a moment, as a key (YYYY-MM-DD). */
export function dayKey(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** "Today", "Yesterday", or the date written out. */
export function dayLabel(iso: string, now = new Date()): string {
  const key = dayKey(iso);
  if (key === dayKey(now.toISOString())) return 'Today';
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (key === dayKey(yesterday.toISOString())) return 'Yesterday';
  const date = new Date(iso);
  return (date.getFullYear() !== now.getFullYear() ? DATE_WITH_YEAR : DATE).format(date);
}

// One formatter each, made once: toLocaleTimeString with options builds a new Intl.DateTimeFormat on every call,
// which was the largest cost in the JavaScript of scrolling the message list (every row shows its time twice).
const DATE = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' });
const DATE_WITH_YEAR = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const CLOCK = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

export const clockTime = (iso: string): string => CLOCK.format(new Date(iso));
