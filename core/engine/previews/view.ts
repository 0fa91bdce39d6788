// A link preview between the wire and the message view. Whatever a peer's device sent is cleaned again here (it may
// run other code than ours): the link must be http(s) and appear in the message's own text, so a card cannot point
// somewhere the text does not; text is stripped of disguising characters; the thumbnail must be a JPEG.
import type { LinkPreviewViewT } from '../../api/contract.ts';
import type { LinkPreviewPayload } from '../../protocol/wire.ts';
import { cleanText, DESCRIPTION_MAX, TITLE_MAX } from './parse.ts';
import type { LinkPreview } from './preview.ts';

export function toPayload(preview: LinkPreview): LinkPreviewPayload {
  return {
    url: preview.url, title: preview.title, description: preview.description,
    image: preview.image ? { jpeg: preview.image.bytes, width: preview.image.width, height: preview.image.height } : null,
  };
}

/** The view's JSON as stored with the message, or null when the preview does not hold up. */
export function storedPreview(preview: LinkPreviewPayload, body: string): string | null {
  let url: URL;
  try {
    url = new URL(preview.url);
  } catch {
    return null;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !body.includes(preview.url)) return null;
  const title = cleanText(preview.title, TITLE_MAX);
  if (title === null) return null;
  const description = preview.description === null ? null : cleanText(preview.description, DESCRIPTION_MAX);
  const jpeg = preview.image?.jpeg;
  const image = preview.image && jpeg && jpeg[0] === 0xff && jpeg[1] === 0xd8 && jpeg[2] === 0xff && preview.image.width > 0 && preview.image.height > 0
    ? { jpeg: Buffer.from(jpeg).toString('base64'), width: preview.image.width, height: preview.image.height }
    : null;
  const view: LinkPreviewViewT = { url: preview.url, title, ...(description ? { description } : {}), ...(image ? { image } : {}) };
  return JSON.stringify(view);
}
