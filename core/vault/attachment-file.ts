// Attachment files at rest: attachments/<id>, encrypted under a random key per file. The key lives only in the vault
// database, so deleting its row crypto-shreds the file even where overwriting cannot reach (SSD remapping,
// snapshots, backups).
//
// Layout (docs/storage.md), version 3, written since the attachment read path was profiled (issue 15):
//   "WDAT" | 0x03 | 7-byte nonce prefix | chunks
// STREAM chunks (core/crypto/gcm-chunk-stream.ts: AES-256-GCM, chunk index and last-chunk flag in the nonce) of
// 1 MiB of plaintext each but the last (0..1 MiB, flagged final), each followed by its 16-byte tag. Version 2 is the
// same layout under XChaCha20-Poly1305 (core/crypto/chunk-stream.ts, a 15-byte prefix); version 1 is libsodium
// secretstream in 64 KiB chunks ("WDAT" | 0x01 | 24-byte header | chunks of +17 bytes). All three are read; in each
// truncation, reordering or appended data are detected.
//
// Why each version: 1's cost was per-chunk overhead (a system call, two allocations and a copy per 64 KiB); 2 made
// each MiB one write or read into buffers reused across the file, the next under way while a chunk is sealed. Then
// reading was still 0.3-0.4x a plain read, and the profile said: about a third page faults on the fresh buffer
// the plaintext lands in (taken on the thread that decrypts), a copy out of the read buffer, and libsodium's
// XChaCha20-Poly1305 itself (~850 MB/s to open here, under half a plain read's ~2 GB/s, so no amount of I/O work
// could reach 0.5x). Now each chunk's ciphertext is read (one readv per four chunks, tags scattered aside) straight
// into the place its plaintext goes, so the kernel faults those pages in on the I/O thread while the previous
// batch is opened in place; and version 3's AES-256-GCM opens at about twice libsodium's speed. Streams and
// ranges, which hand each chunk to a caller that keeps it, read into pooled buffers instead and hand out OpenSSL's
// own output; ranges read only their chunks (figures in docs/storage.md section 6).
import { closeSync, fstatSync, openSync, readSync, readvSync } from 'node:fs';
import { open, rm, stat, rename } from 'node:fs/promises';
import { CHUNK_NONCE_PREFIX_BYTES, CHUNK_TAG_BYTES, ChunkCipher } from '../crypto/chunk-stream.ts';
import { GCM_NONCE_PREFIX_BYTES, GCM_TAG_BYTES, GcmChunkCipher } from '../crypto/gcm-chunk-stream.ts';
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
export const ATTACHMENT_VERSION = 3;
export const CHUNK_BYTES = 1024 * 1024;
/** Version 3's: magic, version, nonce prefix. */
export const PREAMBLE_BYTES = ATTACHMENT_MAGIC.length + 1 + GCM_NONCE_PREFIX_BYTES;
/** Both STREAM versions' tags are 16 bytes, so a sealed chunk is as long in 2 and 3. */
const TAG_BYTES = GCM_TAG_BYTES satisfies typeof CHUNK_TAG_BYTES;
export const SEALED_CHUNK_BYTES = CHUNK_BYTES + TAG_BYTES;
/** Version 2: XChaCha20-Poly1305 STREAM, 1 MiB chunks (read only). */
const V2_PREAMBLE_BYTES = ATTACHMENT_MAGIC.length + 1 + CHUNK_NONCE_PREFIX_BYTES;
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
      const prefix = randomBytes(GCM_NONCE_PREFIX_BYTES);
      const cipher = new GcmChunkCipher(key, prefix);
      const preamble = new Uint8Array(PREAMBLE_BYTES);
      preamble.set(ATTACHMENT_MAGIC, 0);
      preamble[ATTACHMENT_MAGIC.length] = ATTACHMENT_VERSION;
      preamble.set(prefix, ATTACHMENT_MAGIC.length + 1);
      // each batch of sealed chunks written with one writev of OpenSSL's own output arrays (no copy into a write
      // buffer), while the next batch is sealed
      let batch: Uint8Array[] = [preamble];
      let batched = 0;
      let writing: Promise<void> = Promise.resolve();
      let position = 0;
      const flush = async () => {
        await writing;
        writing = transferAll((buffers, at) => handle.writev(buffers, at).then(({ bytesWritten }) => bytesWritten), batch, position);
        writing.catch(() => {}); // heard at the next flush or below; meanwhile the source may be awaited, and must not find it unhandled
        position += batch.reduce((sum, part) => sum + part.length, 0);
        batch = [];
        batched = 0;
      };
      let index = 0;
      try {
        for await (const { chunk, final } of chunked(source)) {
          batch.push(...cipher.sealed(chunk, index, final));
          size += chunk.length;
          index++;
          if (++batched === CHUNKS_PER_IO) await flush();
        }
        if (batch.length > 0) await flush();
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

async function readExactly(handle: ReadableFile, length: number, position: number, buffer = new Uint8Array(length)): Promise<Uint8Array> {
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/**
 * What the readers below need of an open file, and close when they are done: node's FileHandle, or the blocking
 * calls of openAttachmentFileSync where a round trip to the I/O threads per call would cost more than the call.
 */
export interface ReadableFile {
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  readv(buffers: Uint8Array[], position: number): Promise<{ bytesRead: number }>;
  stat(): Promise<{ size: number }>;
  close(): Promise<void>;
}

const missingFile = (error: unknown) => {
  const mapped = classify(error);
  return mapped.code === 'NOT_FOUND' ? new VaultError('CORRUPT', 'attachment file is missing') : mapped;
};

/** Opens an attachment file for reading, started beside the key's lookup so the open's round trip costs nothing. */
export async function openAttachmentFile(file: string): Promise<ReadableFile> {
  try {
    return await open(file, 'r');
  } catch (error) {
    throw missingFile(error);
  }
}

/**
 * Opens an attachment file whose reads block the thread: for the vault's worker, which reads a range (one MiB, a
 * viewer's files.read) in the time three round trips to the I/O threads take (open, read, close; about 0.15 ms each
 * here). The promises it returns are settled when returned, so a range read in the worker finishes before it takes
 * its next request.
 */
export function openAttachmentFileSync(file: string): ReadableFile {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    throw missingFile(error);
  }
  const settled = <T>(call: () => T): Promise<T> => {
    try {
      return Promise.resolve(call());
    } catch (error) {
      return Promise.reject(error as Error);
    }
  };
  return {
    read: (buffer, offset, length, position) => settled(() => ({ bytesRead: readSync(fd, buffer, offset, length, position) })),
    readv: (buffers, position) => settled(() => ({ bytesRead: readvSync(fd, buffers, position) })),
    stat: () => settled(() => fstatSync(fd)),
    close: () => settled(() => closeSync(fd)),
  };
}

/**
 * Decrypts the file open in `handle` chunk by chunk, and closes it. Throws VaultError CORRUPT if anything fails to
 * authenticate, the file ends early, carries data after the final chunk, or decrypts to a size other than
 * `expectedSize`. Memory stays at two batches of chunks. Each chunk yielded is a new array the caller may keep;
 * with `into` (expectedSize bytes), versions 2 and 3 decrypt straight into it instead and yield views of it: no
 * copy to gather.
 */
export async function* readEncryptedFile(handle: ReadableFile, key: Uint8Array, expectedSize: number, into?: Uint8Array): AsyncGenerator<Uint8Array> {
  for await (const { bytes } of readChunksFrom(handle, key, expectedSize, 0, expectedSize, into)) yield bytes;
}

/**
 * `length` plaintext bytes from `offset` (fewer where the file ends) of the file open in `handle`, which it closes,
 * checked as readEncryptedFile checks: versions 2 and 3 read and open only the chunks that hold them, so reading a
 * large file piece by piece costs each piece, not all that comes before it; version 1 (64 KiB secretstream, which
 * cannot start in the middle) is read up to them. A range one chunk holds (files.read asks for whole chunks) is
 * handed back as a view of that chunk, not copied.
 */
export async function readEncryptedRange(handle: ReadableFile, key: Uint8Array, expectedSize: number, offset: number, length: number): Promise<Uint8Array> {
  const wanted = Math.max(0, Math.min(length, expectedSize - offset));
  if (wanted === 0) {
    await handle.close();
    return new Uint8Array(0);
  }
  let out: Uint8Array | null = null;
  let filled = 0;
  for await (const { at, bytes } of readChunksFrom(handle, key, expectedSize, offset, offset + wanted)) {
    const piece = bytes.subarray(Math.max(0, offset + filled - at)).subarray(0, wanted - filled);
    if (piece.length === 0) continue; // a version 1 chunk before the range
    if (piece.length === wanted) return piece;
    out ??= new Uint8Array(wanted);
    out.set(piece, filled);
    filled += piece.length;
    if (filled === wanted) return out;
  }
  throw new VaultError('CORRUPT', 'attachment decrypts to fewer bytes than recorded');
}

/**
 * The file's chunks with the plaintext offset each starts at, from the one holding `fromByte` up to the one holding
 * the byte before `toByte` (version 1: from 0, and on for as long as the caller asks). Closes `handle`.
 *
 * Files are written in the current version, so its chunks are read at once, beside the header and the file's
 * length, not after them: one round trip to the I/O threads fewer per range (the cost files.read measured). A file
 * of another version has that guess dropped and is read again in its own layout.
 */
async function* readChunksFrom(handle: ReadableFile, key: Uint8Array, expectedSize: number, fromByte: number, toByte: number, into?: Uint8Array): AsyncGenerator<{ at: number; bytes: Uint8Array }> {
  const chunks = Math.max(1, Math.ceil(expectedSize / CHUNK_BYTES));
  const first = Math.min(Math.floor(fromByte / CHUNK_BYTES), chunks - 1);
  const end = Math.max(first + 1, Math.min(chunks, Math.ceil(toByte / CHUNK_BYTES)));
  const readsFor = (preambleBytes: number) => new ChunkReads(handle, preambleBytes, expectedSize, first === 0 ? into : undefined, first, end);
  const guessed = readsFor(PREAMBLE_BYTES);
  try {
    // the longest preamble (version 1's) and the length at once
    const [head, { size }] = await Promise.all([readExactly(handle, V1.preamble, 0), handle.stat()]);
    if (head.length < ATTACHMENT_MAGIC.length + 1 || !ATTACHMENT_MAGIC.every((byte, i) => head[i] === byte)) throw new VaultError('CORRUPT', 'attachment file has no valid header');
    const version = head[ATTACHMENT_MAGIC.length];
    if (version !== ATTACHMENT_VERSION) await guessed.release(); // before anything else reads into `into`
    if (version === 1) {
      let at = 0;
      for await (const bytes of readVersion1(handle, head, key, expectedSize)) {
        yield { at, bytes };
        at += bytes.length;
      }
    } else if (version === 2 || version === 3) {
      const reads = version === ATTACHMENT_VERSION ? guessed : readsFor(V2_PREAMBLE_BYTES);
      try {
        let index = first;
        for await (const bytes of openChunks(reads, head, size, version, key, expectedSize)) yield { at: CHUNK_BYTES * index++, bytes };
      } finally {
        await reads.release();
      }
    } else throw new VaultError('UNSUPPORTED_VERSION', `attachment file version ${version} is not supported`);
  } catch (error) {
    if (error instanceof CryptoError) throw new VaultError('CORRUPT', 'attachment file does not authenticate');
    throw classify(error);
  } finally {
    await guessed.release();
    await handle.close();
  }
}

/**
 * Reads into or writes `buffers` in order from `position` with `transfer` (a readv or writev), as many calls as it
 * takes; CORRUPT if a read finds the file ends first.
 */
async function transferAll(transfer: (buffers: Uint8Array[], position: number) => Promise<number>, buffers: Uint8Array[], position: number): Promise<void> {
  let pending = buffers.filter((buffer) => buffer.length > 0);
  while (pending.length > 0) {
    const moved = await transfer(pending, position);
    if (moved === 0) throw new VaultError('CORRUPT', 'attachment file is truncated');
    position += moved;
    let consumed = moved;
    while (pending.length > 0 && consumed >= pending[0]!.length) consumed -= pending.shift()!.length;
    if (consumed > 0) pending = [pending[0]!.subarray(consumed), ...pending.slice(1)];
  }
}

const readvAll = (handle: ReadableFile, buffers: Uint8Array[], position: number) =>
  transferAll((pending, at) => handle.readv(pending, at).then(({ bytesRead }) => bytesRead), buffers, position);

/**
 * Buffers a batch of sealed chunks is read into when they are not decrypted in place, kept across reads and files:
 * the first touch of a fresh buffer's pages costs about what a plain read of them costs (the profile of issue 15).
 * They only ever hold ciphertext, so handing one to the next read shows it nothing. Two per read under way; at
 * most SEALED_POOL_KEPT are kept idle.
 */
const sealedPool: Uint8Array[] = [];
const SEALED_POOL_KEPT = 4;
const takeSealedBuffer = () => sealedPool.pop() ?? new Uint8Array(CHUNKS_PER_IO * SEALED_CHUNK_BYTES);
const giveBackSealedBuffer = (buffer: Uint8Array) => {
  if (sealedPool.length < SEALED_POOL_KEPT) sealedPool.push(buffer);
};

/**
 * Versions 2 and 3: chunks `start` to `end` (exclusive) of a file whose chunks begin at `preambleBytes`, read a batch
 * at a time from construction on, the next batch read while the caller opens this one. With `into` (the whole
 * file), each chunk's ciphertext is read where its plaintext goes and its tag aside, to be opened there in place;
 * otherwise the sealed chunks are read as they lie into pooled buffers.
 */
class ChunkReads {
  readonly #handle: ReadableFile;
  readonly #preambleBytes: number;
  readonly #expectedSize: number;
  readonly #inPlace: Uint8Array | null;
  readonly #end: number;
  readonly #buffers: Uint8Array[];
  #reading: Promise<{ ciphertext: Uint8Array; tag: Uint8Array }[]>;
  #next: number;
  #released = false;

  constructor(handle: ReadableFile, preambleBytes: number, expectedSize: number, into: Uint8Array | undefined, start: number, end: number) {
    this.#handle = handle;
    this.#preambleBytes = preambleBytes;
    this.#expectedSize = expectedSize;
    this.#inPlace = into?.length === expectedSize ? into : null;
    this.#end = end;
    this.#buffers = this.#inPlace ? [new Uint8Array(CHUNKS_PER_IO * TAG_BYTES), new Uint8Array(CHUNKS_PER_IO * TAG_BYTES)] : [takeSealedBuffer(), takeSealedBuffer()];
    this.#next = start;
    this.#reading = this.#readAhead(start, this.#buffers[0]!);
  }

  get inPlace(): boolean {
    return this.#inPlace !== null;
  }

  /** Each batch in turn, with the index of its first chunk. */
  async *batches(): AsyncGenerator<{ first: number; batch: { ciphertext: Uint8Array; tag: Uint8Array }[] }> {
    for (let n = 1; this.#next < this.#end; n++) {
      const first = this.#next;
      const batch = await this.#reading;
      this.#next += CHUNKS_PER_IO;
      if (this.#next < this.#end) this.#reading = this.#readAhead(this.#next, this.#buffers[n % 2]!);
      yield { first, batch };
    }
  }

  /** Waits for the read under way (none may run on a closed file) and gives the pooled buffers back. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    await this.#reading.catch(() => {});
    if (!this.#inPlace) this.#buffers.forEach(giveBackSealedBuffer);
  }

  /**
   * Starts reading a batch before it is asked for. Its failure is heard when the batch is asked for; until then (the
   * caller busy with the batch before, or stopping early) it must count as handled, or it becomes an unhandled
   * rejection, which ends the process.
   */
  #readAhead(first: number, buffer: Uint8Array) {
    const reading = this.#readBatch(first, buffer);
    reading.catch(() => {});
    return reading;
  }

  async #readBatch(first: number, buffer: Uint8Array) {
    const plainLength = (index: number) => Math.min(CHUNK_BYTES, this.#expectedSize - index * CHUNK_BYTES);
    const inPlace = this.#inPlace;
    const sealed: { ciphertext: Uint8Array; tag: Uint8Array }[] = [];
    let used = 0;
    for (let index = first; index < Math.min(this.#end, first + CHUNKS_PER_IO); index++) {
      const length = plainLength(index);
      const ciphertext = inPlace ? inPlace.subarray(index * CHUNK_BYTES, index * CHUNK_BYTES + length) : buffer.subarray(used, (used += length));
      sealed.push({ ciphertext, tag: buffer.subarray(used, (used += TAG_BYTES)) });
    }
    await readvAll(this.#handle, inPlace ? sealed.flatMap(({ ciphertext, tag }) => [ciphertext, tag]) : [buffer.subarray(0, used)], this.#preambleBytes + first * SEALED_CHUNK_BYTES);
    return sealed;
  }
}

/**
 * Versions 2 and 3: the recorded size says how many chunks there are and how long each is, so the file's length is
 * checked first, then the chunks `reads` brings are opened: in place when it reads into the caller's array,
 * otherwise each into a new array (node:crypto's own output) for the caller to keep.
 */
async function* openChunks(reads: ChunkReads, head: Uint8Array, size: number, version: 2 | 3, key: Uint8Array, expectedSize: number): AsyncGenerator<Uint8Array> {
  const preambleBytes = version === 3 ? PREAMBLE_BYTES : V2_PREAMBLE_BYTES;
  if (head.length < preambleBytes) throw new VaultError('CORRUPT', 'attachment file has no valid header');
  const prefix = head.subarray(ATTACHMENT_MAGIC.length + 1, preambleBytes);
  const cipher = version === 3 ? new GcmChunkCipher(key, prefix) : new ChunkCipher(key, prefix);
  const chunks = Math.max(1, Math.ceil(expectedSize / CHUNK_BYTES));
  const fileBytes = preambleBytes + expectedSize + chunks * TAG_BYTES;
  if (size < fileBytes) throw new VaultError('CORRUPT', 'attachment file is truncated');
  if (size > fileBytes) throw new VaultError('CORRUPT', 'attachment file has data after its final chunk');
  for await (const { first, batch } of reads.batches()) {
    for (const [i, { ciphertext, tag }] of batch.entries()) {
      const index = first + i;
      const final = index === chunks - 1;
      if (!reads.inPlace) yield cipher.opened(ciphertext, tag, index, final);
      else {
        cipher.openDetached(ciphertext, ciphertext, tag, index, final);
        yield ciphertext;
      }
    }
  }
}

async function* readVersion1(handle: ReadableFile, preamble: Uint8Array, key: Uint8Array, expectedSize: number): AsyncGenerator<Uint8Array> {
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

