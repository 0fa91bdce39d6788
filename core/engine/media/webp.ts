// WebP without metadata: the RIFF container is rebuilt from the chunks decoding needs (VP8/VP8L/ALPH, animation,
// the ICC profile) without EXIF and XMP, the VP8X flags and the RIFF size set to match. The image data is copied
// as it was, so the pixels are unchanged.
import { check } from './errors.ts';
import { minimalExif, readOrientation } from './exif.ts';
import type { Stripped } from './strip.ts';

const KEEP = new Set(['VP8 ', 'VP8L', 'VP8X', 'ALPH', 'ANIM', 'ANMF', 'ICCP']);
const FLAG_ICC = 0x20, FLAG_EXIF = 0x08, FLAG_XMP = 0x04;
const fourcc = (bytes: Uint8Array, at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));

export function stripWebp(input: Uint8Array): Stripped {
  check(input.length >= 20 && fourcc(input, 0) === 'RIFF' && fourcc(input, 8) === 'WEBP', 'WebP', 'no RIFF/WEBP header');
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const riffEnd = 8 + view.getUint32(4, true);
  check(riffEnd <= input.length && riffEnd >= 12, 'WebP', 'a RIFF size beyond the file');
  const chunks: { type: string; bytes: Uint8Array }[] = [];
  const removed = new Set<string>();
  let orientation = 1;
  for (let pos = 12; pos < riffEnd;) {
    check(pos + 8 <= riffEnd, 'WebP', 'a truncated chunk header');
    const type = fourcc(input, pos);
    const size = view.getUint32(pos + 4, true);
    const padded = size + (size & 1);
    check(size <= riffEnd - pos - 8 && (padded <= riffEnd - pos - 8 || pos + 8 + size === riffEnd), 'WebP', `${JSON.stringify(type)} is longer than the file`);
    const bytes = input.subarray(pos, Math.min(riffEnd, pos + 8 + padded));
    pos += 8 + padded;
    if (KEEP.has(type)) chunks.push({ type, bytes });
    else if (type === 'EXIF') { orientation = readOrientation(bytes.subarray(8, 8 + size)); removed.add('EXIF'); }
    else removed.add(type === 'XMP ' ? 'XMP' : type.trim());
  }
  if (riffEnd < input.length) removed.add('data after the image');
  check(chunks.some((c) => c.type === 'VP8 ' || c.type === 'VP8L' || c.type === 'ANMF'), 'WebP', 'no image data');
  const header = chunks[0]?.type === 'VP8X' ? Uint8Array.from(chunks[0].bytes) : null;
  check(header === null || header.length >= 18, 'WebP', 'a short VP8X header');
  check(!chunks.slice(1).some((c) => c.type === 'VP8X'), 'WebP', 'VP8X out of place');
  if (header) {
    header[8] = (header[8]! & ~(FLAG_EXIF | FLAG_XMP | FLAG_ICC)) | (chunks.some((c) => c.type === 'ICCP') ? FLAG_ICC : 0) | (orientation !== 1 ? FLAG_EXIF : 0);
    chunks[0] = { type: 'VP8X', bytes: header };
  }
  // EXIF needs the extended format; a simple file cannot carry one, so there is none to keep
  const exif = header && orientation !== 1 ? riffChunk('EXIF', minimalExif(orientation)) : null;
  const body = [...chunks.map((c) => c.bytes), ...(exif ? [exif] : [])];
  const size = body.reduce((n, b) => n + b.length, 4);
  const riff = new Uint8Array(12);
  riff.set(input.subarray(0, 4), 0);
  new DataView(riff.buffer).setUint32(4, size, true);
  riff.set(input.subarray(8, 12), 8);
  return { bytes: Buffer.concat([riff, ...body]), format: 'webp', removed: [...removed].sort(), orientation: exif ? orientation : 1 };
}

function riffChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + data.length + (data.length & 1));
  out.set(Buffer.from(type, 'latin1'), 0);
  new DataView(out.buffer).setUint32(4, data.length, true);
  out.set(data, 8);
  return out;
}
