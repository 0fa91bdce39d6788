// Attachment files at rest: attachments/<id>, encrypted under a random key per file. The key lives only in the vault
// database, so deleting its row crypto-shreds the file even where overwriting cannot reach (SSD remapping,
// snapshots, backups).
//
// Layout (docs/storage.md), version 2, written since issue 15:
//   "WDAT" | 0x02 | 15-byte nonce prefix | chunks
// STREAM chunks (core/crypto/chunk-stream.ts: XChaCha20-Poly1305, chunk index and last-chunk flag in the nonce) of
// 1 MiB of plaintext each but the last (0..1 MiB, flagged final), +16 bytes of tag. Version 1 (libsodium
// secretstream in 64 KiB chunks: "WDAT" | 0x01 | 24-byte header | chunks of +17 bytes) is still read. Either way
// truncation, reordering or appended data are all detected. Version 2 exists for speed: the cost of version 1 was
// per-chunk overhead (a system call, two allocations and a copy per 64 KiB), not cryptography; now each MiB is one
// write or read into buffers reused across the file, the next read or write under way while a chunk is sealed.
import { open, rm, stat, rename, type FileHandle } from 'node:fs/promises';
import { CHUNK_NONCE_PREFIX_BYTES, CHUNK_TAG_BYTES, ChunkCipher } from '../crypto/chunk-stream.ts';
import {
  STREAM_HEADER_BYTES,
  STREAM_TAG_BYTES,
  CryptoError,
  randomBytes,
  streamPuller,
} from '../crypto/sodium.ts';
import { VaultError, classify } from './errors.ts';
import { fsyncDirectory } from './keyfile.ts';
import path from 'node:path';

export const ATTACHMENT_MAGIC = Uint8Array.from([0x57, 0x44, 0x41, 0x54]); // "WDAT"
export const ATTACHMENT_VERSION = 2;
export const CHUNK_BYTES = 1024 * 1024;
export const PREAMBLE_BYTES = ATTACHMENT_MAGIC.length + 1 + CHUNK_NONCE_PREFIX_BYTES;
export const SEALED_CHUNK_BYTES = CHUNK_BYTES + CHUNK_TAG_BYTES;
/** Chunks per read or write: system calls and thread-pool round trips, not cryptography, are the cost per chunk. */
const CHUNKS_PER_IO = 4;
/** Version 1: secretstream, 64 KiB chunks. */
const V1 = { chunk: 64 * 1024, preamble: ATTACHMENT_MAGIC.length + 1 + STREAM_HEADER_BYTES, sealed: 64 * 1024 + STREAM_TAG_BYTES };

export type AttachmentSource = Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/**
 * Re-slices any stream of byte arrays into CHUNK_BYTES plaintext chunks, marking only the last one final. A full
 * chunk is held back until more input arrives, because only then is it known not to be the last. Bytes given whole
 * are passed on as views, not copied; a stream's parts are copied, since its producer may reuse them once the next
 * is asked for. A yielded array may be reused: each consumer step must finish with it (sealing copies it) before
 * asking for the next.
 */
async function* chunked(source: AttachmentSource): AsyncGenerator<{ chunk: Uint8Array; final: boolean }> {
  const whole = source instanceof Uint8Array;
  const parts = whole ? [source] : source;
  const buffer = new Uint8Array(CHUNK_BYTES);
  let filled = 0;
  let held: Uint8Array | null = null; // a full chunk not yet known not to be the last
  for await (const part of parts) {
    if (!(part instanceof Uint8Array)) throw new VaultError('INVALID_ARGUMENT', 'attachment source must yield Uint8Array chunks');
    for (let offset = 0; offset < part.length; ) {
      if (held) {
        yield { chunk: held, final: false };
        held = null;
      }
      if (whole && filled === 0 && part.length - offset >= CHUNK_BYTES) {
        held = part.subarray(offset, offset + CHUNK_BYTES);
        offset += CHUNK_BYTES;
        continue;
      }
      const take = Math.min(CHUNK_BYTES - filled, part.length - offset);
      buffer.set(part.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === CHUNK_BYTES) {
        held = buffer;
        filled = 0;
      }
    }
  }
  // the buffer is never both held and being filled: a held buffer is yielded before anything is copied into it
  if (held) yield { chunk: held, final: true };
  else yield { chunk: buffer.subarray(0, filled), final: true };
}

async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += (await handle.write(bytes, written, bytes.length - written, position + written)).bytesWritten;
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
      const prefix = randomBytes(CHUNK_NONCE_PREFIX_BYTES);
      const cipher = new ChunkCipher(key, prefix);
      const preamble = new Uint8Array(PREAMBLE_BYTES);
      preamble.set(ATTACHMENT_MAGIC, 0);
      preamble[ATTACHMENT_MAGIC.length] = ATTACHMENT_VERSION;
      preamble.set(prefix, ATTACHMENT_MAGIC.length + 1);
      // two batches of sealed chunks: one being written while the next is sealed into the other
      const batches = [new Uint8Array(CHUNKS_PER_IO * SEALED_CHUNK_BYTES), new Uint8Array(CHUNKS_PER_IO * SEALED_CHUNK_BYTES)];
      let batch = batches[0]!;
      let filled = 0;
      let writing: Promise<void> = writeAll(handle, preamble, 0);
      let position = PREAMBLE_BYTES;
      const flush = async () => {
        await writing;
        writing = writeAll(handle, batch.subarray(0, filled), position);
        position += filled;
        filled = 0;
        batch = batch === batches[0] ? batches[1]! : batches[0]!;
      };
      let index = 0;
      try {
        for await (const { chunk, final } of chunked(source)) {
          const out = cipher.seal(batch.subarray(filled, filled + chunk.length + CHUNK_TAG_BYTES), chunk, index, final);
          filled += out.length;
          size += chunk.length;
          index++;
          if (filled + SEALED_CHUNK_BYTES > batch.length) await flush();
        }
        if (filled > 0) await flush();
      } finally {
        await writing; // a source that failed still waits for the write under way before the file is closed
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

async function readExactly(handle: FileHandle, length: number, position: number, buffer = new Uint8Array(length)): Promise<Uint8Array> {
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
 * carries data after the final chunk, or decrypts to a size other than `expectedSize`. Memory stays at two chunks.
 * With `into` (expectedSize bytes), format 2 decrypts straight into it and yields views of it: no copy to gather.
 */
export async function* readEncryptedFile(file: string, key: Uint8Array, expectedSize: number, into?: Uint8Array): AsyncGenerator<Uint8Array> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    const mapped = classify(error);
    throw mapped.code === 'NOT_FOUND' ? new VaultError('CORRUPT', 'attachment file is missing') : mapped;
  }
  try {
    const head = await readExactly(handle, ATTACHMENT_MAGIC.length + 1, 0);
    if (head.length < ATTACHMENT_MAGIC.length + 1 || !ATTACHMENT_MAGIC.every((byte, i) => head[i] === byte)) throw new VaultError('CORRUPT', 'attachment file has no valid header');
    const version = head[ATTACHMENT_MAGIC.length];
    if (version === 1) yield* readVersion1(handle, key, expectedSize);
    else if (version === ATTACHMENT_VERSION) yield* readVersion2(handle, key, expectedSize, into);
    else throw new VaultError('UNSUPPORTED_VERSION', `attachment file version ${version} is not supported`);
  } catch (error) {
    if (error instanceof CryptoError) throw new VaultError('CORRUPT', 'attachment file does not authenticate');
    throw classify(error);
  } finally {
    await handle.close();
  }
}

async function* readVersion2(handle: FileHandle, key: Uint8Array, expectedSize: number, into: Uint8Array | undefined): AsyncGenerator<Uint8Array> {
  const preamble = await readExactly(handle, PREAMBLE_BYTES, 0);
  if (preamble.length < PREAMBLE_BYTES) throw new VaultError('CORRUPT', 'attachment file has no valid header');
  const cipher = new ChunkCipher(key, preamble.subarray(ATTACHMENT_MAGIC.length + 1));
  // the size the vault recorded says how many chunks there are and how long each is
  const chunks = Math.max(1, Math.ceil(expectedSize / CHUNK_BYTES));
  const sealedLength = (index: number) => Math.min(CHUNK_BYTES, expectedSize - index * CHUNK_BYTES) + CHUNK_TAG_BYTES;
  const at = (index: number) => PREAMBLE_BYTES + index * SEALED_CHUNK_BYTES;
  const batches = [new Uint8Array(CHUNKS_PER_IO * SEALED_CHUNK_BYTES + 1), new Uint8Array(CHUNKS_PER_IO * SEALED_CHUNK_BYTES + 1)];
  /** chunks first..first+CHUNKS_PER_IO-1 in one read; after the last chunk, one byte more, which must not be there */
  const readBatch = (first: number, n: number) => {
    const end = Math.min(chunks, first + CHUNKS_PER_IO);
    const length = at(end - 1) + sealedLength(end - 1) - at(first) + (end === chunks ? 1 : 0);
    return readExactly(handle, length, at(first), batches[n % 2]!.subarray(0, length));
  };
  // the next batch is read while this one is decrypted
  let reading = readBatch(0, 0);
  try {
    for (let first = 0, n = 0; first < chunks; first += CHUNKS_PER_IO, n++) {
      const bytes = await reading;
      const end = Math.min(chunks, first + CHUNKS_PER_IO);
      if (end < chunks) reading = readBatch(end, n + 1);
      const expected = at(end - 1) + sealedLength(end - 1) - at(first);
      if (bytes.length < expected) throw new VaultError('CORRUPT', 'attachment file is truncated');
      if (bytes.length > expected) throw new VaultError('CORRUPT', 'attachment file has data after its final chunk');
      for (let index = first; index < end; index++) {
        const offset = at(index) - at(first);
        // yielded for the caller to keep (readAttachment collects them): a fresh array each time, not zero-filled
        // first since decryption writes every byte of it (or throws, and it is never seen)
        const length = sealedLength(index) - CHUNK_TAG_BYTES;
        const plaintext = into?.length === expectedSize ? into.subarray(index * CHUNK_BYTES, index * CHUNK_BYTES + length) : Buffer.allocUnsafeSlow(length);
        cipher.open(plaintext, bytes.subarray(offset, offset + sealedLength(index)), index, index === chunks - 1);
        yield plaintext;
      }
    }
  } finally {
    await reading.catch(() => {}); // a reader that stopped early leaves no read running on a closed file
  }
}

async function* readVersion1(handle: FileHandle, key: Uint8Array, expectedSize: number): AsyncGenerator<Uint8Array> {
  const preamble = await readExactly(handle, V1.preamble, 0);
  if (preamble.length < V1.preamble) throw new VaultError('CORRUPT', 'attachment file has no valid header');
  const puller = streamPuller(key, preamble.subarray(ATTACHMENT_MAGIC.length + 1));
  let position = V1.preamble;
  let size = 0;
  for (;;) {
    const sealed = await readExactly(handle, V1.sealed, position);
    if (sealed.length < STREAM_TAG_BYTES) throw new VaultError('CORRUPT', 'attachment file is truncated');
    position += sealed.length;
    const { plaintext, final } = puller.pull(sealed);
    size += plaintext.length;
    if (size > expectedSize) throw new VaultError('CORRUPT', 'attachment decrypts to more bytes than recorded');
    yield plaintext;
    if (final) break;
    if (sealed.length < V1.sealed) throw new VaultError('CORRUPT', 'attachment file is truncated');
  }
  if ((await readExactly(handle, 1, position)).length > 0) throw new VaultError('CORRUPT', 'attachment file has data after its final chunk');
  if (size !== expectedSize) throw new VaultError('CORRUPT', 'attachment decrypts to fewer bytes than recorded');
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

