// How much of a conversation's history the renderer holds: a bounded window around where the user is reading.
// Pages put in front push the newest out, pages put behind push the oldest out, and what was pushed out is paged in
// again when the list scrolls back (messages.list before/after), so reading through 100,000 messages holds no more
// (and derives no more rows per page) than reading through a few hundred.
import type { Message } from './types.ts';

/** The most messages a conversation's window holds: six pages of 50, several screens either side of the view. */
export const WINDOW_MAX = 300;

export interface Span {
  /** oldest first */
  ids: string[];
  byId: Record<string, Message>;
}

/** `span` cut to WINDOW_MAX by dropping from the `drop` end; `cut` says whether anything went. */
export function bounded(span: Span, drop: 'oldest' | 'newest'): Span & { cut: boolean } {
  if (span.ids.length <= WINDOW_MAX) return { ...span, cut: false };
  const ids = drop === 'oldest' ? span.ids.slice(span.ids.length - WINDOW_MAX) : span.ids.slice(0, WINDOW_MAX);
  return { ids, byId: Object.fromEntries(ids.map((id) => [id, span.byId[id]!])), cut: true };
}

/** `page` (messages not held yet) put before or after what `span` holds. */
export function joined(span: Span, page: readonly Message[], where: 'before' | 'after'): Span {
  const fresh = page.filter((m) => !span.byId[m.id]);
  const added = fresh.map((m) => m.id);
  return {
    ids: where === 'before' ? [...added, ...span.ids] : [...span.ids, ...added],
    byId: { ...span.byId, ...Object.fromEntries(fresh.map((m) => [m.id, m])) },
  };
}
