// The one EXIF tag we keep: Orientation. Re-orienting a JPEG losslessly needs DCT-domain transforms (jpegtran)
// that no installed library offers, and re-encoding would change the pixels; so a photo that was rotated by its
// camera keeps a minimal EXIF block holding Orientation alone (26 bytes: a TIFF header and one IFD entry). It
// names no device, place or time, and every decoder we ship (Chromium, libvips) still shows the photo upright.
import { check } from './errors.ts';

/** Orientation (1-8) from a TIFF-structured EXIF block, or 1 when it is absent or unreadable (the block is dropped either way). */
export function readOrientation(tiff: Uint8Array): number {
  try {
    return orientationOf(tiff);
  } catch {
    return 1;
  }
}

function orientationOf(block: Uint8Array): number {
  // some writers (libwebp, some PNG tools) keep JPEG's "Exif\0\0" prefix in front of the TIFF data
  const prefixed = block.length >= 6 && String.fromCharCode(...block.subarray(0, 6)) === 'Exif\0\0';
  const tiff = prefixed ? block.subarray(6) : block;
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  check(tiff.length >= 8, 'EXIF', 'short header');
  const order = view.getUint16(0);
  check(order === 0x4949 || order === 0x4d4d, 'EXIF', 'byte order');
  const little = order === 0x4949;
  check(view.getUint16(2, little) === 42, 'EXIF', 'TIFF magic');
  const ifd = view.getUint32(4, little);
  check(ifd + 2 <= tiff.length, 'EXIF', 'IFD offset');
  const count = view.getUint16(ifd, little);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    check(entry + 12 <= tiff.length, 'EXIF', 'IFD entry');
    if (view.getUint16(entry, little) !== 0x0112) continue;
    const value = view.getUint16(entry + 8, little);
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

/** A TIFF block with IFD0 holding Orientation only (little-endian, no next IFD). */
export function minimalExif(orientation: number): Uint8Array {
  const out = new Uint8Array(26);
  const view = new DataView(out.buffer);
  out.set([0x49, 0x49, 42, 0], 0);
  view.setUint32(4, 8, true);
  view.setUint16(8, 1, true);
  view.setUint16(10, 0x0112, true);
  view.setUint16(12, 3, true); // SHORT
  view.setUint32(14, 1, true);
  view.setUint16(18, orientation, true);
  view.setUint32(22, 0, true);
  return out;
}
