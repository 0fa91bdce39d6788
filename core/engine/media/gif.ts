// GIF without metadata: blocks are walked and copied, except comment extensions and application extensions other
// than the NETSCAPE2.0/ANIMEXTS1.0 loop count (XMP travels as an application extension). Frames and their graphic
// control blocks are copied as they were, so every frame decodes to the same pixels.
import { check, refuse } from './errors.ts';
import type { Stripped } from './strip.ts';

const LOOPING = new Set(['NETSCAPE2.0', 'ANIMEXTS1.0']);

export function stripGif(input: Uint8Array): Stripped {
  const head = String.fromCharCode(...input.subarray(0, 6));
  check(head === 'GIF87a' || head === 'GIF89a', 'GIF', 'no GIF header');
  check(input.length >= 13, 'GIF', 'a truncated screen descriptor');
  const kept: Uint8Array[] = [];
  const removed = new Set<string>();
  let pos = 13 + colourTableSize(input[10]!);
  check(pos <= input.length, 'GIF', 'a truncated colour table');
  kept.push(input.subarray(0, pos));
  let frames = 0;
  for (;;) {
    check(pos < input.length, 'GIF', 'it ends before the trailer');
    const introducer = input[pos]!;
    if (introducer === 0x3b) {
      kept.push(input.subarray(pos, pos + 1));
      if (pos + 1 < input.length) removed.add('data after the image');
      break;
    }
    const start = pos;
    if (introducer === 0x21) {
      check(pos + 2 <= input.length, 'GIF', 'a truncated extension');
      const label = input[pos + 1]!;
      const end = skipSubBlocks(input, pos + 2);
      if (label === 0xfe) removed.add('comment');
      else if (label === 0xff) {
        const name = input[pos + 2] === 11 && pos + 14 <= input.length ? String.fromCharCode(...input.subarray(pos + 3, pos + 14)) : '';
        if (LOOPING.has(name)) kept.push(input.subarray(start, end));
        else removed.add(name.startsWith('XMP DataXMP') ? 'XMP' : 'application extension');
      } else kept.push(input.subarray(start, end));
      pos = end;
    } else if (introducer === 0x2c) {
      check(pos + 10 <= input.length, 'GIF', 'a truncated image descriptor');
      pos += 10 + colourTableSize(input[pos + 9]!);
      check(pos + 1 <= input.length, 'GIF', 'a truncated frame');
      const end = skipSubBlocks(input, pos + 1); // after the LZW minimum code size
      kept.push(input.subarray(start, end));
      pos = end;
      frames++;
    } else refuse('GIF', 'an unknown block');
  }
  check(frames > 0, 'GIF', 'no frames');
  return { bytes: Buffer.concat(kept), format: 'gif', removed: [...removed].sort(), orientation: 1 };
}

const colourTableSize = (packed: number) => (packed & 0x80 ? 3 * (1 << ((packed & 0x07) + 1)) : 0);

function skipSubBlocks(input: Uint8Array, from: number): number {
  let pos = from;
  for (;;) {
    check(pos < input.length, 'GIF', 'a truncated data block');
    const size = input[pos]!;
    pos += 1 + size;
    if (size === 0) return pos;
  }
}
