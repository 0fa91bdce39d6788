// A link preview as the sender's device makes it: the page's title, description and a small thumbnail, fetched
// through the guard (fetch.ts), parsed (parse.ts), never rendered; then sent inside the encrypted message, so the
// relay never sees the link and the recipients' devices never contact the site.
import sharp from 'sharp';
import { guardedGet, PreviewRefused, type FetchGuard } from './fetch.ts';
import { parsePage } from './parse.ts';

export const PREVIEW_LIMITS = {
  htmlBytes: 512 * 1024,
  imageBytes: 1024 * 1024,
  /** the whole preview, page and image and every redirect */
  timeoutMs: 5_000,
  thumbnailSide: 256,
  thumbnailBytes: 48 * 1024,
  /** decoding bombs: a 1 MiB PNG can claim 40,000 x 40,000 pixels */
  imagePixels: 24_000_000,
} as const;

export interface LinkPreview {
  url: string;
  title: string;
  description: string | null;
  /** a JPEG made here from the page's image (so it carries no metadata of the site's) */
  image: { bytes: Uint8Array; width: number; height: number } | null;
}

export interface PreviewOptions extends FetchGuard {
  timeoutMs?: number;
}

const HTML = new Set(['text/html', 'application/xhtml+xml']);
const IMAGES = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif']);

/** The first http(s) link in a message's text, without trailing punctuation. */
export function firstLink(text: string): string | null {
  const match = /\bhttps?:\/\/[^\s<>"'`]+/i.exec(text);
  if (!match) return null;
  const link = match[0].replace(/[.,;:!?)\]}]+$/, '');
  return link.length <= 2048 ? link : null;
}

/** Fetches and builds the preview; refuses (PreviewRefused) with one line when there is nothing safe to show. */
export async function fetchLinkPreview(link: string, options: PreviewOptions = {}): Promise<LinkPreview> {
  const signal = AbortSignal.timeout(options.timeoutMs ?? PREVIEW_LIMITS.timeoutMs);
  const deadline = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new PreviewRefused('timeout', 'the site took too long to answer')), { once: true }));
  deadline.catch(() => undefined);
  return Promise.race([build(link, options, signal), deadline]);
}

async function build(link: string, options: PreviewOptions, signal: AbortSignal): Promise<LinkPreview> {
  const page = await guardedGet(link, options, { maxBytes: PREVIEW_LIMITS.htmlBytes, accept: (t) => HTML.has(t), overLimit: 'truncate', signal });
  const meta = parsePage(page.body.toString('utf8'));
  if (meta.title === null) throw new PreviewRefused('empty', 'the page has no title');
  let image: LinkPreview['image'] = null;
  const imageUrl = meta.image && URL.canParse(meta.image, page.url.href) ? new URL(meta.image, page.url).href : null;
  if (imageUrl) {
    try {
      const fetched = await guardedGet(imageUrl, options, { maxBytes: PREVIEW_LIMITS.imageBytes, accept: (t) => IMAGES.has(t), overLimit: 'refuse', signal });
      image = await thumbnail(fetched.body);
    } catch (error) {
      // a page without a usable image still gets a text card; only the deadline ends the whole preview
      if (error instanceof PreviewRefused && error.reason === 'timeout') throw error;
    }
  }
  // the card names the link as it was written (what recipients see in the text), not where redirects ended
  return { url: link, title: meta.title, description: meta.description, image };
}

/** A small JPEG from the page's image; sharp writes no metadata unless asked. Null when it cannot be made small. */
async function thumbnail(bytes: Buffer): Promise<LinkPreview['image']> {
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: PREVIEW_LIMITS.imagePixels, animated: false, failOn: 'error' })
      .rotate()
      .resize(PREVIEW_LIMITS.thumbnailSide, PREVIEW_LIMITS.thumbnailSide, { fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: 70 })
      .toBuffer({ resolveWithObject: true });
    return data.length <= PREVIEW_LIMITS.thumbnailBytes ? { bytes: new Uint8Array(data), width: info.width, height: info.height } : null;
  } catch {
    return null;
  }
}
