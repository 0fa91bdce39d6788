// PNG without metadata: chunks are copied or dropped whole, their CRCs checked, nothing re-compressed. An allowlist,
// not a blocklist, because a private ancillary chunk can carry anything: kept are the critical chunks and the
// ancillary ones that change how pixels look (colour: iCCP, sRGB, gAMA, cHRM, cICP, HDR levels; transparency;
// physical size; animation). Dropped: text (tEXt, zTXt, iTXt: where XMP and comments live), tIME, eXIf and the rest.
import { crc32 } from 'node:zlib';
import { check, refuse } from './errors.ts';
import { minimalExif, readOrientation } from './exif.ts';
import type { Stripped } from './strip.ts';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const KEEP = new Set(['IHDR', 'PLTE', 'IDAT', 'IEND', 'tRNS', 'cHRM', 'gAMA', 'iCCP', 'sBIT', 'sRGB', 'cICP', 'mDCV', 'cLLI', 'bKGD', 'hIST', 'pHYs', 'sPLT', 'acTL', 'fcTL', 'fdAT']);

export function stripPng(input: Uint8Array): Stripped {
  check(input.length >= 8 && SIGNATURE.every((b, i) => input[i] === b), 'PNG', 'no PNG signature');
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const kept: Uint8Array[] = [input.subarray(0, 8)];
  const removed = new Set<string>();
  let orientation = 1;
  let pos = 8;
  let first = true;
  for (;;) {
    check(pos + 12 <= input.length, 'PNG', 'it ends before IEND');
    const length = view.getUint32(pos);
    check(length <= input.length - pos - 12, 'PNG', 'a chunk longer than the file');
    const type = String.fromCharCode(...input.subarray(pos + 4, pos + 8));
    check(/^[A-Za-z]{4}$/.test(type), 'PNG', 'a chunk with an invalid name');
    const chunk = input.subarray(pos, pos + 12 + length);
    check(crc32(chunk.subarray(4, 8 + length)) === view.getUint32(pos + 8 + length), 'PNG', `${type} fails its checksum`);
    check(!first || type === 'IHDR', 'PNG', 'IHDR is not first');
    first = false;
    pos += 12 + length;
    if (KEEP.has(type)) kept.push(chunk);
    else if (type === 'eXIf') { orientation = readOrientation(chunk.subarray(8, 8 + length)); removed.add('EXIF'); }
    // a critical chunk we do not know means a decoder must refuse the file: refuse it too rather than guess
    else if (type.charCodeAt(0) < 0x61) refuse('PNG', `an unknown critical chunk ${type}`);
    else removed.add(type);
    if (type === 'IEND') {
      if (pos < input.length) removed.add('data after the image');
      break;
    }
  }
  // right after IHDR: decoders read eXIf before the image data
  if (orientation !== 1) kept.splice(2, 0, pngChunk('eXIf', minimalExif(orientation)));
  return { bytes: Buffer.concat(kept), format: 'png', removed: [...removed].sort(), orientation };
}

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(Buffer.from(type, 'latin1'), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}
