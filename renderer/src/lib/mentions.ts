// Mentions while typing: the @word at the caret, the people it may mean (by username or display name), and the
// text with the choice put in. What is inserted is `@username`, the form the engine finds mentions by
// (core/engine/inbound/payloads.ts mentionsIn: an @ at the start or after a character that is not a word
// character or @, then a username).

export interface Person {
  username: string;
  displayName?: string;
}

/** The @word being typed at `caret`: where its @ is and what follows it; null when the caret is not in one. */
export function mentionAt(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const m = /(?:^|[^\w@])@([a-z0-9._-]{0,31})$/i.exec(before);
  if (!m) return null;
  return { start: caret - m[1]!.length - 1, query: m[1]!.toLowerCase() };
}

/** Who `query` may mean: usernames starting with it first, then display names with a word starting with it. */
export function matchPeople(people: readonly Person[], query: string, max = 8): Person[] {
  const q = query.toLowerCase();
  const byUsername = people.filter((p) => p.username.startsWith(q));
  const byName = people.filter((p) => !p.username.startsWith(q) && p.displayName?.toLowerCase().split(/\s+/).some((w) => w.startsWith(q)));
  return [...byUsername.sort((a, b) => a.username.localeCompare(b.username)), ...byName].slice(0, max);
}

/** The text with the @word from `start` to `caret` replaced by `@username ` and where the caret goes after it. */
export function insertMention(text: string, start: number, caret: number, username: string): { text: string; caret: number } {
  const token = `@${username} `;
  const rest = text.slice(caret).replace(/^[a-z0-9._-]*/i, '').replace(/^ /, '');
  return { text: text.slice(0, start) + token + rest, caret: start + token.length };
}

/** The :shortcode being typed at `caret` (two characters at least, as chat apps wait for), or null. */
export function shortcodeAt(text: string, caret: number): { start: number; query: string } | null {
  const m = /(?:^|\s):([a-z0-9_+-]{2,32})$/i.exec(text.slice(0, caret));
  return m ? { start: caret - m[1]!.length - 1, query: m[1]!.toLowerCase() } : null;
}

/** Replaces text[start, end) with `insert`, the caret after it. */
export function replaceRange(text: string, start: number, end: number, insert: string): { text: string; caret: number } {
  return { text: text.slice(0, start) + insert + text.slice(end), caret: start + insert.length };
}
