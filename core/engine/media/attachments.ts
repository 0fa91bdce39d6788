// Where stripping meets sending (files/files.ts): an image chosen to send is read (it is small: MAX_IMAGE_BYTES at
// most), cleaned, and staged again, so what is uploaded and what its thumbnail is made from is the cleaned copy.
// Anything that is not an image is left as it was, having read only its first chunk to tell.
import { LIMITS } from '../../api/contract.ts';
import type { AttachmentInput } from '../../api/contract.ts';
import type { z } from 'zod';
import type { PlainSource } from '../files/blob-format.ts';
import { safeFileName, typeOfName } from '../files/names.ts';
import { openPath } from '../files/source.ts';
import type { Staging } from '../files/staging.ts';
import { ImageError } from './errors.ts';
import { detectImage, imageTooLarge, MAX_IMAGE_BYTES, stripImageMetadata, type Stripped } from './strip.ts';

type Attachment = z.output<typeof AttachmentInput>;
const CHUNK = LIMITS.fileChunkMax;

/** Reads `length` bytes from `position` in whole chunks (the staged files' rule). */
async function readChunks(source: PlainSource, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  for (let at = 0; at < length; at += CHUNK) {
    const chunk = new Uint8Array(Math.min(CHUNK, source.size - at));
    if ((await source.read(chunk, at)) !== chunk.length) throw new ImageError('the image changed while it was being read; nothing was sent');
    out.set(chunk.subarray(0, Math.min(chunk.length, length - at)), at);
  }
  return out;
}

async function cleaned(source: PlainSource): Promise<Stripped | null> {
  if (source.size === 0) return null;
  const head = await readChunks(source, Math.min(16, source.size));
  const format = detectImage(head);
  if (format === null) return null;
  if (format === 'heif') return stripImageMetadata(head); // refuses, saying why
  if (source.size > MAX_IMAGE_BYTES) imageTooLarge();
  return stripImageMetadata(await readChunks(source, source.size));
}

async function stage(staging: Staging, bytes: Uint8Array): Promise<string> {
  const id = await staging.start(bytes.length);
  for (let at = 0; at < bytes.length; at += CHUNK) await staging.append(id, at, bytes.subarray(at, at + CHUNK));
  return id;
}

/**
 * The attachment to send instead of `attachment` when it is an image (a staged, cleaned copy under the same name and
 * type), with the cleaned bytes for the thumbnail; null when it is not an image. Refuses (ImageError) an image it
 * cannot clean: HEIC, too large, damaged. Nothing is half-cleaned.
 */
export async function cleanImageAttachment(attachment: Attachment, staging: Staging): Promise<{ attachment: Attachment; bytes: Uint8Array; removed: string[] } | null> {
  const name = safeFileName(attachment.name ?? attachment.path ?? 'file');
  let result: Stripped | null;
  if (attachment.path !== undefined) {
    const source = await openPath(attachment.path);
    try {
      result = await cleaned(source);
    } finally {
      await source.close();
    }
  } else {
    result = await cleaned(staging.source(attachment.staged!));
  }
  if (!result) return null;
  const staged = await stage(staging, result.bytes);
  if (attachment.staged !== undefined) await staging.drop(attachment.staged);
  return { attachment: { staged, name, mime: attachment.mime ?? typeOfName(name) }, bytes: result.bytes, removed: result.removed };
}
