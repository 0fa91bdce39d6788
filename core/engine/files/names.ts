// File names and types: what a name may be when shown or saved, and a type guessed from it when none was given.
import path from 'node:path';

/**
 * Types by extension, for files whose caller did not say and for the org policy's allowed types (a name's type must
 * be allowed as well as the declared one: policy.ts); an extension not here counts as application/octet-stream.
 */
const TYPES: Record<string, string> = {
  jpg: 'image/jpeg', jpeg: 'image/jpeg', jpe: 'image/jpeg', jfif: 'image/jpeg', png: 'image/png', ico: 'image/vnd.microsoft.icon', gif: 'image/gif', webp: 'image/webp', heic: 'image/heic', heif: 'image/heif', avif: 'image/avif',
  tif: 'image/tiff', tiff: 'image/tiff', svg: 'image/svg+xml', bmp: 'image/bmp',
  pdf: 'application/pdf', txt: 'text/plain', md: 'text/markdown', csv: 'text/csv', json: 'application/json', html: 'text/html', htm: 'text/html', xml: 'application/xml', rtf: 'application/rtf',
  zip: 'application/zip', gz: 'application/gzip', tar: 'application/x-tar', '7z': 'application/x-7z-compressed',
  mp4: 'video/mp4', mov: 'video/quicktime', webm: 'video/webm', mkv: 'video/x-matroska', flac: 'audio/flac', opus: 'audio/ogg', mp3: 'audio/mpeg', m4a: 'audio/mp4', ogg: 'audio/ogg', wav: 'audio/wav',
  doc: 'application/msword', docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel', xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  odt: 'application/vnd.oasis.opendocument.text', ods: 'application/vnd.oasis.opendocument.spreadsheet', odp: 'application/vnd.oasis.opendocument.presentation',
  ppt: 'application/vnd.ms-powerpoint', pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
};

export function typeOfName(name: string): string {
  return TYPES[path.extname(name).slice(1).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The most UTF-8 bytes a name keeps. File systems allow 255 bytes in a name (not characters: 85 CJK characters
 * fill it), and a download writes `.NAME.<16 hex digits>.wardroom-part` first (32 bytes more) and may then add
 * " (999)" to make the name unique.
 */
export const MAX_NAME_BYTES = 200;
/** An extension longer than this is not kept whole when a name is shortened: it is part of the name. */
const MAX_KEPT_EXTENSION_BYTES = 16;

/** A name as it may be shown and saved: no directories, no control characters, not hidden, not empty, not too long. */
export function safeFileName(name: string): string {
  const cleaned = path.basename(name.replace(/\\/g, '/')).replace(/[\p{Cc}\p{Cf}/]+/gu, '_').replace(/^\.+/, '_').trim();
  return shortened(cleaned || 'file');
}

/** The name cut to MAX_NAME_BYTES between characters, its extension kept so it still opens with the same app. */
function shortened(name: string): string {
  if (Buffer.byteLength(name) <= MAX_NAME_BYTES) return name;
  const extension = path.extname(name);
  const kept = Buffer.byteLength(extension) <= MAX_KEPT_EXTENSION_BYTES ? extension : '';
  let budget = MAX_NAME_BYTES - Buffer.byteLength(kept);
  let stem = '';
  for (const character of name.slice(0, name.length - kept.length)) {
    budget -= Buffer.byteLength(character);
    if (budget < 0) break;
    stem += character;
  }
  return `${stem.trimEnd()}${kept}`;
}
