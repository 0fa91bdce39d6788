// A file as the relay stores it (docs/protocol.md, "Files"): a fresh key per file, the plaintext sealed in 1 MiB
// chunks (core/crypto/chunk-stream.ts), then zeros up to a Padmé bucket, so the relay learns the size only to
// within about 12% (and never the name or type, which travel inside the message with the key).
//
//   "WDFB" | version 0x01 | 15-byte nonce prefix | chunk 0 | ... | chunk n-1 (final) | zero padding
//
// Every chunk but the last carries exactly BLOB_CHUNK_BYTES of plaintext. The message carries the plaintext size,
// so the blob's exact layout follows from it and a blob of any other length is refused; a BLAKE2b-256 digest of
// the whole blob, padding included, is checked as it arrives. Sealing is deterministic given key and prefix, so a
// transfer cut at any byte resumes by sealing the part before it again (to hash it) without sending it twice.
import { CHUNK_NONCE_PREFIX_BYTES, CHUNK_TAG_BYTES, ChunkCipher } from '../../crypto/chunk-stream.ts';
import { constantTimeEqual, CryptoError, type IncrementalHash } from '../../crypto/sodium.ts';

const MAGIC = Uint8Array.from([0x57, 0x44, 0x46, 0x42]); // "WDFB"
export const BLOB_VERSION = 1;
export const BLOB_CHUNK_BYTES = 1024 * 1024;
export const BLOB_HEADER_BYTES = MAGIC.length + 1 + CHUNK_NONCE_PREFIX_BYTES;
const SEALED_CHUNK_BYTES = BLOB_CHUNK_BYTES + CHUNK_TAG_BYTES;
/** The largest file any decoder here accepts (policy and the relay usually set far less). */
export const MAX_FILE_BYTES = 2 ** 40;

/** The blob does not match what its message promised: damaged, cut short, or not the file at all. */
export class BlobIntegrityError extends Error {
  override readonly name = 'BlobIntegrityError';
}

export const chunkCount = (size: number): number => Math.max(1, Math.ceil(size / BLOB_CHUNK_BYTES));
const chunkPlainBytes = (size: number, index: number): number => Math.min(BLOB_CHUNK_BYTES, size - index * BLOB_CHUNK_BYTES);
const chunkStart = (index: number): number => BLOB_HEADER_BYTES + index * SEALED_CHUNK_BYTES;
export const ciphertextBytes = (size: number): number => BLOB_HEADER_BYTES + size + chunkCount(size) * CHUNK_TAG_BYTES;

/**
 * Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and Communication with PURBs", 2019):
 * round up so that only the top bits of the length remain, at most 12% overhead, O(log log L) bits leaked.
 */
export function padme(length: number): number {
  if (length < 2) return length;
  const e = Math.floor(Math.log2(length));
  const s = Math.floor(Math.log2(e)) + 1;
  const unit = 2 ** (e - s);
  return Math.ceil(length / unit) * unit;
}

export const blobBytes = (size: number): number => padme(ciphertextBytes(size));

export function blobHeader(prefix: Uint8Array): Uint8Array {
  const header = new Uint8Array(BLOB_HEADER_BYTES);
  header.set(MAGIC, 0);
  header[MAGIC.length] = BLOB_VERSION;
  header.set(prefix, MAGIC.length + 1);
  return header;
}

/** Plaintext to seal, read by position: a file on disk, or bytes staged in the vault. */
export interface PlainSource {
  readonly size: number;
  /** Fills `into` from `position`; fewer bytes than asked means the source changed under us. */
  read(into: Uint8Array, position: number): Promise<number>;
}

/**
 * The blob's bytes from `from` to its end, in pieces (each valid until the next is asked for). `hash` is fed the
 * whole blob from byte 0: what lies before `from` is sealed again to hash it, not yielded.
 */
export async function* sealBlob(source: PlainSource, key: Uint8Array, prefix: Uint8Array, hash: IncrementalHash, from = 0): AsyncGenerator<Uint8Array> {
  const { size } = source;
  const header = blobHeader(prefix);
  hash.update(header);
  if (from < BLOB_HEADER_BYTES) yield header.subarray(from);
  const cipher = new ChunkCipher(key, prefix);
  const plain = new Uint8Array(Math.min(BLOB_CHUNK_BYTES, size));
  const sealed = new Uint8Array(plain.length + CHUNK_TAG_BYTES);
  const chunks = chunkCount(size);
  for (let index = 0; index < chunks; index++) {
    const length = chunkPlainBytes(size, index);
    const view = plain.subarray(0, length);
    if ((await source.read(view, index * BLOB_CHUNK_BYTES)) !== length) throw new BlobIntegrityError('the file changed while it was being sent');
    const out = cipher.seal(sealed.subarray(0, length + CHUNK_TAG_BYTES), view, index, index === chunks - 1);
    hash.update(out);
    const start = chunkStart(index);
    if (start + out.length > from) yield out.subarray(Math.max(0, from - start));
  }
  const end = ciphertextBytes(size);
  const padding = new Uint8Array(Math.min(blobBytes(size) - end, SEALED_CHUNK_BYTES));
  for (let at = end; at < blobBytes(size); at += padding.length) {
    const piece = padding.subarray(0, Math.min(padding.length, blobBytes(size) - at));
    hash.update(piece);
    if (at + piece.length > from) yield piece.subarray(Math.max(0, from - at));
  }
}

/**
 * Takes a blob's bytes as they arrive and hands out verified plaintext, chunk by chunk. Bytes that fail to
 * authenticate, run past the expected length, or padding that is not zeros throw BlobIntegrityError at once;
 * finish() checks the length and the digest. A download resumed at a chunk boundary starts with resume().
 */
export class BlobOpener {
  readonly #key: Uint8Array;
  readonly #size: number;
  readonly #hash: IncrementalHash;
  readonly #total: number;
  readonly #header = new Uint8Array(BLOB_HEADER_BYTES);
  readonly #sealed: Uint8Array;
  readonly #plain: Uint8Array;
  #cipher: ChunkCipher | null = null;
  #position = 0;
  #index = 0;
  #filled = 0;

  constructor(key: Uint8Array, size: number, hash: IncrementalHash) {
    if (!Number.isSafeInteger(size) || size < 0 || size > MAX_FILE_BYTES) throw new BlobIntegrityError('the file\'s size is out of range');
    this.#key = key;
    this.#size = size;
    this.#hash = hash;
    this.#total = blobBytes(size);
    this.#plain = new Uint8Array(Math.min(BLOB_CHUNK_BYTES, size));
    this.#sealed = new Uint8Array(this.#plain.length + CHUNK_TAG_BYTES);
  }

  /** Where in the blob the next byte belongs. */
  get position(): number {
    return this.#position;
  }

  /**
   * Continues after `chunks` whole chunks already verified earlier (their plaintext is `prefixPlain`, read back from
   * the partial file): the header is needed for the key's nonce prefix; the chunks are sealed again to be hashed.
   */
  async resume(header: Uint8Array, chunks: number, prefixPlain: PlainSource): Promise<void> {
    if (this.#position !== 0 || header.length !== BLOB_HEADER_BYTES || chunks >= chunkCount(this.#size)) throw new BlobIntegrityError('cannot resume here');
    await this.#take(header);
    for (let index = 0; index < chunks; index++) {
      const plain = this.#plain.subarray(0, BLOB_CHUNK_BYTES);
      if ((await prefixPlain.read(plain, index * BLOB_CHUNK_BYTES)) !== BLOB_CHUNK_BYTES) throw new BlobIntegrityError('the partial download changed');
      this.#hash.update(this.#cipher!.seal(this.#sealed, plain, index, false));
    }
    this.#index = chunks;
    this.#position = chunkStart(chunks);
  }

  /** Feeds received bytes; `sink` gets each verified chunk of plaintext (valid until it returns). */
  async push(bytes: Uint8Array, sink: (plain: Uint8Array) => Promise<void>): Promise<void> {
    if (this.#position + bytes.length > this.#total) throw new BlobIntegrityError('the file is longer than its message says');
    await this.#take(bytes, sink);
  }

  /** The whole blob arrived: its length and digest must be what the message said. */
  finish(digest: Uint8Array): void {
    if (this.#position !== this.#total) throw new BlobIntegrityError('the file is truncated');
    if (!constantTimeEqual(this.#hash.digest(), digest)) throw new BlobIntegrityError('the file does not match its digest');
  }

  async #take(bytes: Uint8Array, sink?: (plain: Uint8Array) => Promise<void>): Promise<void> {
    this.#hash.update(bytes);
    let offset = 0;
    while (offset < bytes.length) {
      if (this.#position < BLOB_HEADER_BYTES) {
        const take = Math.min(BLOB_HEADER_BYTES - this.#position, bytes.length - offset);
        this.#header.set(bytes.subarray(offset, offset + take), this.#position);
        offset += take;
        this.#position += take;
        if (this.#position === BLOB_HEADER_BYTES) this.#readHeader();
        continue;
      }
      const chunks = chunkCount(this.#size);
      if (this.#index < chunks) {
        const need = chunkPlainBytes(this.#size, this.#index) + CHUNK_TAG_BYTES;
        const take = Math.min(need - this.#filled, bytes.length - offset);
        this.#sealed.set(bytes.subarray(offset, offset + take), this.#filled);
        this.#filled += take;
        offset += take;
        this.#position += take;
        if (this.#filled < need) continue;
        const plain = this.#plain.subarray(0, need - CHUNK_TAG_BYTES);
        try {
          this.#cipher!.open(plain, this.#sealed.subarray(0, need), this.#index, this.#index === chunks - 1);
        } catch (error) {
          if (error instanceof CryptoError) throw new BlobIntegrityError('the file does not authenticate');
          throw error;
        }
        this.#index++;
        this.#filled = 0;
        if (sink) await sink(plain);
        continue;
      }
      // padding: zeros only
      for (; offset < bytes.length; offset++, this.#position++) if (bytes[offset] !== 0) throw new BlobIntegrityError('the file\'s padding is not empty');
    }
  }

  #readHeader(): void {
    if (!MAGIC.every((byte, i) => this.#header[i] === byte)) throw new BlobIntegrityError('the file has no valid header');
    if (this.#header[MAGIC.length] !== BLOB_VERSION) throw new BlobIntegrityError(`the file's format version ${this.#header[MAGIC.length]} is not supported`);
    this.#cipher = new ChunkCipher(this.#key, this.#header.subarray(MAGIC.length + 1));
  }
}
