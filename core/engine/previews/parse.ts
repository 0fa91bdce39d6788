// What a page says about itself, read from its <head> with htmlparser2: Open Graph and Twitter card tags, the
// description meta tag, and <title>. Nothing is rendered or run: scripts and styles are text we never look at,
// and parsing stops at <body>. Every value is cleaned (control and bidirectional-override characters out,
// whitespace collapsed) and cut to a length a card can show.
import { Parser } from 'htmlparser2';

export const TITLE_MAX = 200;
export const DESCRIPTION_MAX = 400;
/** A meta tag's content longer than this is junk, not a title: ignored rather than cut. */
const ATTRIBUTE_MAX = 8 * 1024;

export interface PageMeta {
  title: string | null;
  description: string | null;
  /** the preview image's URL as the page wrote it (resolved against the page's URL by the caller) */
  image: string | null;
}

/** Strips what could disguise text (control, format and bidi characters), collapses whitespace, cuts to `max` characters. */
export function cleanText(value: string, max: number): string | null {
  const cleaned = value.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, ' ').replace(/\s+/gu, ' ').trim();
  if (cleaned === '') return null;
  const chars = [...cleaned];
  return chars.length <= max ? cleaned : `${chars.slice(0, max - 1).join('').trimEnd()}…`;
}

export function parsePage(html: string): PageMeta {
  const meta = new Map<string, string>();
  let title = '';
  let inTitle = false;
  let done = false;
  const parser = new Parser({
    onopentag(name, attributes) {
      if (done) return;
      if (name === 'body') { done = true; return; }
      if (name === 'title') inTitle = true;
      if (name !== 'meta') return;
      const key = (attributes['property'] ?? attributes['name'] ?? '').toLowerCase();
      const content = attributes['content'];
      if (key && content !== undefined && content.length <= ATTRIBUTE_MAX && !meta.has(key)) meta.set(key, content);
    },
    ontext(text) {
      if (inTitle && !done && title.length < ATTRIBUTE_MAX) title += text;
    },
    onclosetag(name) {
      if (name === 'title') inTitle = false;
      if (name === 'head') done = true;
    },
  }, { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true });
  parser.end(html);
  const first = (...keys: string[]) => keys.map((k) => meta.get(k)).find((v) => v !== undefined && v.trim() !== '') ?? null;
  const pageTitle = first('og:title', 'twitter:title') ?? title;
  const description = first('og:description', 'twitter:description', 'description');
  const image = first('og:image:secure_url', 'og:image', 'og:image:url', 'twitter:image');
  return {
    title: cleanText(pageTitle, TITLE_MAX),
    description: description === null ? null : cleanText(description, DESCRIPTION_MAX),
    image: image === null ? null : image.trim(),
  };
}
