// The emoji data for the picker and :shortcode: completion, from emojibase-data (its compact English set and its
// shortcodes), loaded on first use only: about 700 KB that the first screen never waits for.

export interface Emoji {
  unicode: string;
  label: string;
  group: number;
  /** search words: the label's, the tags, the shortcodes */
  terms: string[];
  shortcodes: string[];
}

export const GROUPS = ['Smileys & emotion', 'People & body', 'Components', 'Animals & nature', 'Food & drink', 'Travel & places', 'Activities', 'Objects', 'Symbols', 'Flags'] as const;

/** The contract's longest reaction (messages.react emoji: at most 16 UTF-16 code units). */
export const REACTION_MAX = 16;

let loading: Promise<Emoji[]> | null = null;

export function loadEmoji(): Promise<Emoji[]> {
  loading ??= Promise.all([import('emojibase-data/en/compact.json'), import('emojibase-data/en/shortcodes/emojibase.json')]).then(([compact, codes]) => {
    const shortcodes = codes.default as Record<string, string | string[]>;
    return compact.default
      .filter((e) => e.group !== undefined && e.group !== 2) // skin tone swatches and the like are not emoji to pick
      .sort((a, b) => (a.order ?? 0) - (b.order ?? 0))
      .map((e) => {
        const own = shortcodes[e.hexcode];
        const codesOf = own === undefined ? [] : Array.isArray(own) ? own : [own];
        return { unicode: e.unicode, label: e.label, group: e.group!, shortcodes: codesOf, terms: [...e.label.toLowerCase().split(/[\s:,]+/), ...(e.tags ?? []), ...codesOf] };
      });
  });
  return loading;
}

/** Emoji whose label, tags or shortcodes have a word starting with every word of the query. */
export function searchEmoji(all: readonly Emoji[], query: string, max = Infinity): Emoji[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return all.slice(0, max);
  const out: Emoji[] = [];
  for (const e of all) {
    if (words.every((w) => e.terms.some((t) => t.startsWith(w)))) out.push(e);
    if (out.length >= max) break;
  }
  return out;
}

/** Emoji with a shortcode starting with `query`, exact shortcodes first. */
export function byShortcode(all: readonly Emoji[], query: string, max = 8): Emoji[] {
  const q = query.toLowerCase();
  const hits = all.filter((e) => e.shortcodes.some((c) => c.startsWith(q)));
  return hits.sort((a, b) => Number(!a.shortcodes.includes(q)) - Number(!b.shortcodes.includes(q))).slice(0, max);
}
