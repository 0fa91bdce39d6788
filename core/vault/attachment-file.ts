// Attachment files at rest: attachments/<id>, encrypted with libsodium secretstream (XChaCha20-Poly1305) in
// 64 KiB chunks under a random key per file. The key lives only in the vault database, so deleting its row
// crypto-shreds the file even where overwriting cannot reach (SSD remapping, snapshots, backups).
//
// Layout (docs/storage.md): "WDAT" | version 0x01 | 24-byte secretstream header | chunks. Every chunk but the
// last carries exactly 64 KiB of plaintext (+17 bytes of tag and overhead); the last carries 0..64 KiB and the
// FINAL tag, so truncation, reordering or appended data are all detected.
import { open, rm, stat, rename, type FileHandle } from 'node:fs/promises';
import {
  STREAM_HEADER_BYTES,
  STREAM_TAG_BYTES,
  CryptoError,
  streamPuller,
  streamPusher,
} from '../crypto/sodium.ts';
import { VaultError, classify } from './errors.ts';
import { fsyncDirectory } from './keyfile.ts';
import path from 'node:path';

export const ATTACHMENT_MAGIC = Uint8Array.from([0x57, 0x44, 0x41, 0x54]); // "WDAT"
export const ATTACHMENT_VERSION = 1;
export const CHUNK_BYTES = 64 * 1024;
const PREAMBLE_BYTES = ATTACHMENT_MAGIC.length + 1 + STREAM_HEADER_BYTES;
const SEALED_CHUNK_BYTES = CHUNK_BYTES + STREAM_TAG_BYTES;

export type AttachmentSource = Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/**
 * Re-slices any stream of byte arrays into CHUNK_BYTES plaintext chunks, marking only the last one final. A full
 * chunk is held back until more input arrives, because only then is it known not to be the last. The yielded
 * array is reused: each consumer step must finish with it (encrypting copies it) before asking for the next.
 */
async function* chunked(source: AttachmentSource): AsyncGenerator<{ chunk: Uint8Array; final: boolean }> {
  const parts = source instanceof Uint8Array ? [source] : source;
  const buffer = new Uint8Array(CHUNK_BYTES);
  let filled = 0;
  for await (const part of parts) {
    if (!(part instanceof Uint8Array)) throw new VaultError('INVALID_ARGUMENT', 'attachment source must yield Uint8Array chunks');
    for (let offset = 0; offset < part.length; ) {
      if (filled === CHUNK_BYTES) {
        yield { chunk: buffer, final: false };
        filled = 0;
      }
      const take = Math.min(CHUNK_BYTES - filled, part.length - offset);
      buffer.set(part.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
    }
  }
  yield { chunk: buffer.subarray(0, filled), final: true };
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += (await handle.write(bytes, written, bytes.length - written)).bytesWritten;
}

/**
 * Encrypts `source` into `file` (via a temporary file, fsync and rename, so a crash leaves no half file under
 * the final name). Returns the plaintext size. The caller owns `key` and wipes it.
 */
export async function writeEncryptedFile(file: string, key: Uint8Array, source: AttachmentSource): Promise<number> {
  const temporary = `${file}.part`;
  let size = 0;
  try {
    const handle = await open(temporary, 'wx', 0o600);
    try {
      const pusher = streamPusher(key);
      const preamble = new Uint8Array(PREAMBLE_BYTES);
      preamble.set(ATTACHMENT_MAGIC, 0);
      preamble[ATTACHMENT_MAGIC.length] = ATTACHMENT_VERSION;
      preamble.set(pusher.header, ATTACHMENT_MAGIC.length + 1);
      await writeAll(handle, preamble);
      for await (const { chunk, final } of chunked(source)) {
        size += chunk.length;
        await writeAll(handle, pusher.push(chunk, final));
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
    fsyncDirectory(path.dirname(file));
    return size;
  } catch (error) {
    await rm(temporary, { force: true });
    const mapped = classify(error);
    // Not a file-system or vault failure: the caller's stream broke. Say so rather than report it as SQL.
    throw mapped.code === 'SQL' ? new VaultError('IO', `attachment source failed: ${mapped.message}`, { cause: error }) : mapped;
  }
}

async function readExactly(handle: FileHandle, length: number, position: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/**
 * Decrypts `file` chunk by chunk. Throws VaultError CORRUPT if anything fails to authenticate, the file ends early,
 * carries data after the final chunk, or decrypts to a size other than `expectedSize`. Memory stays at one chunk.
 */
export async function* readEncryptedFile(file: string, key: Uint8Array, expectedSize: number): AsyncGenerator<Uint8Array> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    const mapped = classify(error);
    throw mapped.code === 'NOT_FOUND' ? new VaultError('CORRUPT', 'attachment file is missing') : mapped;
  }
  try {
    const preamble = await readExactly(handle, PREAMBLE_BYTES, 0);
    if (preamble.length < PREAMBLE_BYTES || !ATTACHMENT_MAGIC.every((byte, i) => preamble[i] === byte)) throw new VaultError('CORRUPT', 'attachment file has no valid header');
    if (preamble[ATTACHMENT_MAGIC.length] !== ATTACHMENT_VERSION) throw new VaultError('UNSUPPORTED_VERSION', `attachment file version ${preamble[ATTACHMENT_MAGIC.length]} is not supported`);
    const puller = streamPuller(key, preamble.subarray(ATTACHMENT_MAGIC.length + 1));
    let position = PREAMBLE_BYTES;
    let size = 0;
    for (;;) {
      const sealed = await readExactly(handle, SEALED_CHUNK_BYTES, position);
      if (sealed.length < STREAM_TAG_BYTES) throw new VaultError('CORRUPT', 'attachment file is truncated');
      position += sealed.length;
      const { plaintext, final } = puller.pull(sealed);
      size += plaintext.length;
      if (size > expectedSize) throw new VaultError('CORRUPT', 'attachment decrypts to more bytes than recorded');
      yield plaintext;
      if (final) break;
      if (sealed.length < SEALED_CHUNK_BYTES) throw new VaultError('CORRUPT', 'attachment file is truncated');
    }
    if ((await readExactly(handle, 1, position)).length > 0) throw new VaultError('CORRUPT', 'attachment file has data after its final chunk');
    if (size !== expectedSize) throw new VaultError('CORRUPT', 'attachment decrypts to fewer bytes than recorded');
  } catch (error) {
    if (error instanceof CryptoError) throw new VaultError('CORRUPT', 'attachment file does not authenticate');
    throw classify(error);
  } finally {
    await handle.close();
  }
}

/**
 * Best-effort physical erasure, the second layer after the key is destroyed: overwrite the whole file with zeros,
 * fsync, unlink, fsync the directory. On SSDs and copy-on-write or journaling file systems the old blocks may
 * survive; only the destroyed key protects them. Returns the bytes overwritten (0 if the file was already gone).
 */
export async function shredFile(file: string): Promise<number> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw classify(error);
  }
  try {
    const handle = await open(file, 'r+');
    try {
      const zeros = new Uint8Array(Math.min(size, 1024 * 1024));
      for (let offset = 0; offset < size; offset += zeros.length) {
        await handle.write(zeros, 0, Math.min(zeros.length, size - offset), offset);
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rm(file, { force: true });
    fsyncDirectory(path.dirname(file));
    return size;
  } catch (error) {
    throw classify(error);
  }
}

