// Which words of a search result to highlight: the words the engine's full-text search matched (core/vault's
// ftsQuery: every term whole, the last one also as a prefix, case folded). Returned as plain text pieces, so the
// result is rendered as text spans and never as HTML.

export interface Piece {
  text: string;
  match: boolean;
}

const WORD = /[\p{L}\p{N}]+/gu;
const fold = (s: string) => s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();

/** The query's terms as the search sees them; `prefix` is true for the last (what the user is still typing). */
export function searchTerms(query: string): { words: string[]; prefix: string | undefined } {
  const words = [...query.matchAll(WORD)].map((m) => fold(m[0]));
  return { words, prefix: words.at(-1) };
}

/** `text` cut into pieces, each a matched word or the text between. */
export function highlight(text: string, query: string): Piece[] {
  const { words, prefix } = searchTerms(query);
  if (words.length === 0) return text ? [{ text, match: false }] : [];
  const exact = new Set(words);
  const pieces: Piece[] = [];
  let at = 0;
  for (const m of text.matchAll(WORD)) {
    const word = fold(m[0]);
    if (!exact.has(word) && !(prefix && word.startsWith(prefix))) continue;
    if (m.index > at) pieces.push({ text: text.slice(at, m.index), match: false });
    pieces.push({ text: m[0], match: true });
    at = m.index + m[0].length;
  }
  if (at < text.length) pieces.push({ text: text.slice(at), match: false });
  return pieces;
}

/** A long result cut to a window around its first match, so the highlighted words are always in view. */
export function snippet(text: string, query: string, max = 160): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const first = highlight(flat, query).findIndex((p) => p.match);
  const offset = first <= 0 ? 0 : highlight(flat, query).slice(0, first).reduce((n, p) => n + p.text.length, 0);
  const start = Math.max(0, Math.min(offset - Math.floor(max / 3), flat.length - max));
  return `${start > 0 ? '…' : ''}${flat.slice(start, start + max)}${start + max < flat.length ? '…' : ''}`;
}
