// An independent SQLCipher 4 page decryptor for forensic tests: node:crypto only, no SQLite, no libsodium.
// It re-implements the documented format (docs/storage.md) so the tests check the files, not the binding's view.
//
// With a raw 256-bit key, SQLCipher 4 (defaults, as used by the vault):
//   - page size 4096; every page ends with 80 reserved bytes: 16-byte IV, then 64-byte HMAC-SHA512;
//   - page 1 starts with the 16-byte database salt in clear; its encrypted area starts at offset 16;
//   - encryption key = the raw key; HMAC key = PBKDF2-HMAC-SHA512(raw key, salt XOR 0x3a, 2 iterations, 32 bytes);
//   - per page: AES-256-CBC (no padding) over the encrypted area; HMAC-SHA512 over ciphertext || IV || page
//     number as a 4-byte little-endian integer.
// WAL: a 32-byte header, then frames of a 24-byte header (page number big-endian at offset 0) + one encrypted page.
import { createDecipheriv, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';

export const PAGE_BYTES = 4096;
const IV_BYTES = 16;
const HMAC_BYTES = 64;
const RESERVE_BYTES = IV_BYTES + HMAC_BYTES;
const SALT_BYTES = 16;
const WAL_HEADER_BYTES = 32;
const WAL_FRAME_HEADER_BYTES = 24;

export interface PageKeys {
  encryptionKey: Buffer;
  hmacKey: Buffer;
}

export function deriveKeys(rawKey: Uint8Array, salt: Uint8Array): PageKeys {
  const hmacSalt = Buffer.from(salt.map((byte) => byte ^ 0x3a));
  return { encryptionKey: Buffer.from(rawKey), hmacKey: pbkdf2Sync(Buffer.from(rawKey), hmacSalt, 2, 32, 'sha512') };
}

export class PageAuthenticationError extends Error {}

/** Decrypts one page; throws PageAuthenticationError if its HMAC does not verify. Returns the plaintext page. */
export function decryptPage(keys: PageKeys, page: Uint8Array, pageNumber: number): Buffer {
  if (page.length !== PAGE_BYTES) throw new Error(`page ${pageNumber} has ${page.length} bytes`);
  const start = pageNumber === 1 ? SALT_BYTES : 0;
  const ciphertext = page.subarray(start, PAGE_BYTES - RESERVE_BYTES);
  const iv = page.subarray(PAGE_BYTES - RESERVE_BYTES, PAGE_BYTES - HMAC_BYTES);
  const mac = page.subarray(PAGE_BYTES - HMAC_BYTES);
  const pageNumberLe = Buffer.alloc(4);
  pageNumberLe.writeUInt32LE(pageNumber);
  const expected = createHmac('sha512', keys.hmacKey).update(ciphertext).update(iv).update(pageNumberLe).digest();
  if (!timingSafeEqual(expected, mac)) throw new PageAuthenticationError(`page ${pageNumber} HMAC does not verify`);
  const decipher = createDecipheriv('aes-256-cbc', keys.encryptionKey, iv).setAutoPadding(false);
  const plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  const out = Buffer.alloc(PAGE_BYTES);
  if (pageNumber === 1) out.write('SQLite format 3\0', 0, 'latin1');
  plaintext.copy(out, start);
  return out;
}

export interface DecryptedFile {
  /** every page's plaintext, in file order */
  pages: Buffer[];
  /** pages that were all zero (unused space SQLite never wrote), skipped rather than decrypted */
  zeroPages: number;
}

function isAllZero(bytes: Uint8Array): boolean {
  return bytes.every((byte) => byte === 0);
}

/** Decrypts every page of a database file. The salt is read from page 1. */
export function decryptDatabase(file: Uint8Array, rawKey: Uint8Array): DecryptedFile {
  if (file.length % PAGE_BYTES !== 0) throw new Error(`database size ${file.length} is not a multiple of ${PAGE_BYTES}`);
  const keys = deriveKeys(rawKey, file.subarray(0, SALT_BYTES));
  const pages: Buffer[] = [];
  let zeroPages = 0;
  for (let offset = 0, number = 1; offset < file.length; offset += PAGE_BYTES, number++) {
    const page = file.subarray(offset, offset + PAGE_BYTES);
    if (isAllZero(page)) zeroPages++;
    else pages.push(decryptPage(keys, page, number));
  }
  return { pages, zeroPages };
}

/** Decrypts every complete frame of a WAL file (also frames of older checkpoints that SQLite would ignore). */
export function decryptWal(wal: Uint8Array, rawKey: Uint8Array, salt: Uint8Array): DecryptedFile {
  const keys = deriveKeys(rawKey, salt);
  const pages: Buffer[] = [];
  let zeroPages = 0;
  const frameBytes = WAL_FRAME_HEADER_BYTES + PAGE_BYTES;
  for (let offset = WAL_HEADER_BYTES; offset + frameBytes <= wal.length; offset += frameBytes) {
    const pageNumber = Buffer.from(wal.buffer, wal.byteOffset + offset, 4).readUInt32BE(0);
    const page = wal.subarray(offset + WAL_FRAME_HEADER_BYTES, offset + frameBytes);
    if (isAllZero(page)) zeroPages++;
    else pages.push(decryptPage(keys, page, pageNumber));
  }
  return { pages, zeroPages };
}
