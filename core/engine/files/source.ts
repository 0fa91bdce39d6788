// Where a file to send comes from (a path the caller chose, or bytes it staged), what it is called and what type
// it is, and its thumbnail: an image's own, or one made from the still an app drew of a video or a PDF. Nothing
// here reads a whole file into memory.
import { open, stat, type FileHandle } from 'node:fs/promises';
import sharp from 'sharp';
import { LIMITS as WIRE_LIMITS } from '../../protocol/limits.ts';
import { EngineError } from '../errors.ts';
import type { PlainSource } from './blob-format.ts';
import type { Thumbnail } from './store.ts';

export interface OpenedSource extends PlainSource {
  /** size and modification time when opened: a resumed upload checks the file is still the same */
  readonly mtimeMs: number;
  close(): Promise<void>;
}

export async function readFully(handle: FileHandle, into: Uint8Array, position: number): Promise<number> {
  let filled = 0;
  while (filled < into.length) {
    const { bytesRead } = await handle.read(into, filled, into.length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

/** A regular file the caller named, opened for reading by position. */
export async function openPath(file: string): Promise<OpenedSource> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new EngineError('NOT_FOUND', code === 'ENOENT' ? `no file at ${file}` : `cannot read ${file} (${code ?? 'error'})`);
  }
  const info = await handle.stat();
  if (!info.isFile()) {
    await handle.close();
    throw new EngineError('INVALID', `${file} is not a regular file`);
  }
  return { size: info.size, mtimeMs: info.mtimeMs, read: (into, position) => readFully(handle, into, position), close: () => handle.close() };
}

/** A partial download's plaintext, read back to hash it again when the download resumes. */
export async function openPartial(file: string): Promise<{ source: PlainSource; size: number; close: () => Promise<void> } | null> {
  try {
    const handle = await open(file, 'r+');
    const { size } = await stat(file);
    return { source: { size, read: (into, position) => readFully(handle, into, position) }, size, close: () => handle.close() };
  } catch {
    return null;
  }
}

/** Decoded-pixel bound for thumbnails: a decompression bomb is refused by sharp, not decoded. */
const THUMBNAIL_MAX_INPUT_PIXELS = 50_000_000;
const THUMBNAIL_EDGE = 160;
const THUMBNAIL_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/avif', 'image/tiff', 'image/heic', 'image/heif']);

/**
 * Files whose preview the sending app draws, since the engine has no decoder for them: a video's first frame, a
 * PDF's first page. The app hands in a still; thumbnailOf decodes and re-encodes it, so only an image of the
 * engine's own making is sent.
 */
export const takesDrawnPreview = (mime: string): boolean => mime.startsWith('video/') || mime === 'application/pdf';

/**
 * A small WebP of an image (upright: EXIF orientation applied; no metadata kept), or null for anything sharp cannot
 * read or that would not fit the wire's thumbnail limit.
 */
export async function thumbnailOf(input: string | Uint8Array, mime: string): Promise<Thumbnail | null> {
  if (!THUMBNAIL_TYPES.has(mime)) return null;
  try {
    for (const quality of [60, 35]) {
      const { data, info } = await sharp(input, { limitInputPixels: THUMBNAIL_MAX_INPUT_PIXELS, animated: false })
        .rotate().resize(THUMBNAIL_EDGE, THUMBNAIL_EDGE, { fit: 'inside', withoutEnlargement: true }).webp({ quality }).toBuffer({ resolveWithObject: true });
      if (data.length <= WIRE_LIMITS.thumbnailBytes) return { mime: 'image/webp', width: info.width, height: info.height, data: new Uint8Array(data) };
    }
    return null;
  } catch {
    return null;
  }
}
