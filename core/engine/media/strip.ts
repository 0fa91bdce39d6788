// Removes what a photo says about where, when and with what it was taken (EXIF: GPS, camera serial, time; XMP; IPTC;
// comments) before it leaves this device, without touching its pixels or its colour profile. Pure: bytes in,
// bytes out, no engine state. The format comes from the bytes (never from a file name or a claimed type).
import { ImageError } from './errors.ts';
import { stripGif } from './gif.ts';
import { stripJpeg } from './jpeg.ts';
import { stripPng } from './png.ts';
import { stripWebp } from './webp.ts';

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif';

export interface Stripped {
  bytes: Uint8Array;
  format: ImageFormat;
  /** what was taken out, for the log and the tests ("EXIF", "XMP", "comment", "tEXt", ...); empty if nothing */
  removed: string[];
  /** the EXIF orientation the result still carries (1: none), so the photo keeps displaying upright */
  orientation: number;
}

/** Larger images are refused rather than parsed: a photo is far below this, and the parsers hold it in memory. */
export const MAX_IMAGE_BYTES = 64 * 1024 * 1024;

export function imageTooLarge(): never {
  throw new ImageError(`this image is over ${MAX_IMAGE_BYTES / 1024 / 1024} MiB, too large to remove its metadata; make it smaller, or turn on "send original"`);
}

const STRIPPERS: Record<ImageFormat, (input: Uint8Array) => Stripped> = { jpeg: stripJpeg, png: stripPng, webp: stripWebp, gif: stripGif };

/** What the bytes are: one of the formats we clean, an ISO-BMFF still image we cannot (HEIC/AVIF), or something else. */
export function detectImage(bytes: Uint8Array): ImageFormat | 'heif' | null {
  const tag = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (tag(0, 8) === '\x89PNG\r\n\x1a\n') return 'png';
  if (tag(0, 4) === 'RIFF' && tag(8, 12) === 'WEBP') return 'webp';
  if (tag(0, 6) === 'GIF87a' || tag(0, 6) === 'GIF89a') return 'gif';
  if (tag(4, 8) === 'ftyp' && /^(heic|heix|heim|heis|hevc|hevx|mif1|msf1|avif|avis)$/.test(tag(8, 12))) return 'heif';
  return null;
}

/**
 * The image without its metadata, or null for bytes that are not an image (sent as they are: a PDF is not ours to
 * edit). Refuses, with one line saying why, a HEIC/AVIF photo (no decoder here that could clean it without
 * re-encoding), an image over MAX_IMAGE_BYTES, and a damaged one: never a half-cleaned file.
 */
export function stripImageMetadata(input: Uint8Array): Stripped | null {
  const format = detectImage(input);
  if (format === null) return null;
  if (format === 'heif') {
    throw new ImageError('HEIC and AVIF photos cannot have their metadata removed on this device; export the photo as JPEG, or turn on "send original" to send it with its metadata');
  }
  if (input.length > MAX_IMAGE_BYTES) imageTooLarge();
  const result = STRIPPERS[format](input);
  // the output must parse again and come out the same (nothing left to remove but the orientation we wrote
  // ourselves): a bug in a stripper refuses, it does not leak
  const again = STRIPPERS[format](result.bytes);
  if (!Buffer.from(again.bytes).equals(result.bytes)) throw new ImageError(`this ${format} image could not be cleaned completely; nothing was sent`);
  return result;
}

/**
 * What the composer sends for a chosen file: images cleaned unless the user turned on "send original"; everything
 * else as it is.
 */
export function prepareForSending(input: Uint8Array, options: { sendOriginal: boolean }): { bytes: Uint8Array; stripped: Stripped | null } {
  if (options.sendOriginal) return { bytes: input, stripped: null };
  const stripped = stripImageMetadata(input);
  return { bytes: stripped?.bytes ?? input, stripped };
}
