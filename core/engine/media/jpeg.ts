// JPEG without metadata, byte for byte otherwise: the segments are walked (through every scan, so a progressive
// file's later tables are seen too) and only those that decoding needs are copied. Nothing is re-encoded, so the
// decoded pixels are exactly the original's. Kept: the frame, tables and scans; JFIF (its thumbnail cut, since a
// thumbnail can show what a crop removed); ICC profiles (APP2), because colours change without them; Adobe APP14,
// which says how to convert CMYK/YCCK and so also changes colours. Dropped: every other APPn (EXIF, XMP, IPTC/
// Photoshop, MPF's extra images, maker data), comments, markers no decoder reads, and anything after the end of the
// image.
import { check, refuse } from './errors.ts';
import { minimalExif, readOrientation } from './exif.ts';
import type { Stripped } from './strip.ts';

const SOI = 0xd8, EOI = 0xd9, SOS = 0xda, APP0 = 0xe0, APP1 = 0xe1, APP2 = 0xe2, APP14 = 0xee, COM = 0xfe;
/** The markers a decoder reads: frame headers (SOF0-15 but DHT, JPG, DAC), DHT, DAC, DQT, DNL, DRI, DHP, EXP, SOS. */
const DECODING = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf, 0xc4, 0xcc, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, SOS]);
const ascii = (bytes: Uint8Array, from: number, text: string) => text.split('').every((c, i) => bytes[from + i] === c.charCodeAt(0));
const fail = (what: string) => refuse('JPEG', what);

export function stripJpeg(input: Uint8Array): Stripped {
  check(input.length >= 4 && input[0] === 0xff && input[1] === SOI, 'JPEG', 'no start-of-image marker');
  const kept: Uint8Array[] = [input.subarray(0, 2)];
  const removed = new Set<string>();
  let orientation = 1;
  let exifAt = -1; // where the minimal EXIF goes: after JFIF if there is one, else first
  let pos = 2;
  let sawFrame = false;
  for (;;) {
    check(pos + 2 <= input.length, 'JPEG', 'it ends before the end-of-image marker');
    if (input[pos] !== 0xff) fail('a segment does not start with a marker');
    const marker = input[pos + 1]!;
    if (marker === 0xff) { pos++; continue; } // fill byte
    if (marker === EOI) {
      kept.push(input.subarray(pos, pos + 2));
      if (pos + 2 < input.length) removed.add('data after the image');
      break;
    }
    if (marker === SOI || marker === 0x00 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) fail('a marker out of place');
    check(pos + 4 <= input.length, 'JPEG', 'a truncated segment header');
    const length = (input[pos + 2]! << 8) | input[pos + 3]!;
    check(length >= 2 && pos + 2 + length <= input.length, 'JPEG', 'a segment longer than the file');
    const segment = input.subarray(pos, pos + 2 + length);
    const body = pos + 4;
    pos += 2 + length;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) sawFrame = true;
    if (marker === APP0 && ascii(input, body, 'JFIF\0') && length >= 16) {
      const jfif = Uint8Array.from(segment.subarray(0, 18));
      jfif[2] = 0; jfif[3] = 16; // no thumbnail
      jfif[16] = 0; jfif[17] = 0;
      if (length > 16) removed.add('JFIF thumbnail');
      kept.push(jfif);
      exifAt = kept.length;
    } else if (marker === APP1 && ascii(input, body, 'Exif\0\0')) {
      if (orientation === 1) orientation = readOrientation(input.subarray(body + 6, body - 2 + length));
      removed.add('EXIF');
    } else if (marker === APP2 && ascii(input, body, 'ICC_PROFILE\0')) {
      kept.push(segment);
    } else if (marker === APP14 && ascii(input, body, 'Adobe')) {
      kept.push(segment);
    } else if (marker >= APP0 && marker <= 0xef) {
      removed.add(describeApp(input, marker, body));
    } else if (marker === COM) {
      removed.add('comment');
    } else if (DECODING.has(marker)) {
      kept.push(segment);
    } else {
      removed.add(`marker 0x${marker.toString(16)}`);
    }
    if (marker === SOS) {
      check(sawFrame, 'JPEG', 'a scan before the frame header');
      const end = endOfEntropyData(input, pos);
      kept.push(input.subarray(pos, end));
      pos = end;
    }
  }
  if (orientation !== 1) {
    const tiff = minimalExif(orientation);
    const app1 = new Uint8Array(4 + 6 + tiff.length);
    app1.set([0xff, APP1, 0, 2 + 6 + tiff.length], 0);
    app1.set([0x45, 0x78, 0x69, 0x66, 0, 0], 4);
    app1.set(tiff, 10);
    kept.splice(exifAt === -1 ? 1 : exifAt, 0, app1);
  }
  return { bytes: Buffer.concat(kept), format: 'jpeg', removed: [...removed].sort(), orientation };
}

/** Entropy-coded data runs until a 0xFF that is neither stuffed (FF 00), a restart marker (FF D0-D7) nor fill. */
function endOfEntropyData(input: Uint8Array, from: number): number {
  let i = input.indexOf(0xff, from);
  while (i !== -1 && i + 1 < input.length) {
    const next = input[i + 1]!;
    if (next !== 0x00 && !(next >= 0xd0 && next <= 0xd7) && next !== 0xff) return i;
    i = input.indexOf(0xff, i + (next === 0xff ? 1 : 2));
  }
  return fail('the image data ends without an end-of-image marker');
}

function describeApp(input: Uint8Array, marker: number, body: number): string {
  if (marker === APP1 && ascii(input, body, 'http://ns.adobe.com/xap/1.0/')) return 'XMP';
  if (marker === APP1 && ascii(input, body, 'http://ns.adobe.com/xmp/extension/')) return 'XMP';
  if (marker === 0xed) return 'IPTC/Photoshop';
  if (marker === APP2 && ascii(input, body, 'MPF\0')) return 'MPF (extra images)';
  return `APP${marker - APP0}`;
}
