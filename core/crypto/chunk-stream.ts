// Chunked authenticated encryption for files: the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015;
// the one age and Tink use) over libsodium's XChaCha20-Poly1305. Chunk i is sealed under the file's key with the
// nonce  prefix (15 random bytes) || i (8 bytes, big-endian) || final (1 byte), so a chunk cannot be moved,
// dropped, repeated, or passed off as the last one, and any chunk can be sealed or opened on its own: a transfer
// cut in the middle resumes at a chunk boundary instead of starting again. Buffers are the caller's, so a
// gigabyte streams through two of them.
import { AEAD_NONCE_BYTES, AEAD_TAG_BYTES, aeadDecryptDetachedInto, aeadDecryptInto, aeadEncryptInto, CryptoError } from './sodium.ts';

export const CHUNK_NONCE_PREFIX_BYTES = 15;
export const CHUNK_TAG_BYTES = AEAD_TAG_BYTES;
/** Chunk indexes stay below 2^53: far past any file's chunk count. */
const MAX_INDEX = Number.MAX_SAFE_INTEGER;

export class ChunkCipher {
  readonly #key: Uint8Array;
  readonly #nonce = new Uint8Array(AEAD_NONCE_BYTES);

  constructor(key: Uint8Array, prefix: Uint8Array) {
    if (prefix.length !== CHUNK_NONCE_PREFIX_BYTES) throw new CryptoError(`a chunk nonce prefix is ${CHUNK_NONCE_PREFIX_BYTES} bytes`);
    this.#key = key;
    this.#nonce.set(prefix, 0);
  }

  /** Seals `plaintext` as chunk `index` into `out` (plaintext.length + CHUNK_TAG_BYTES). Returns `out`. */
  seal(out: Uint8Array, plaintext: Uint8Array, index: number, final: boolean): Uint8Array {
    return aeadEncryptInto(out, this.#key, this.#nonceFor(index, final), plaintext);
  }

  /** Opens chunk `index` into `out` (sealed.length - CHUNK_TAG_BYTES). Throws CryptoError if it does not authenticate. */
  open(out: Uint8Array, sealed: Uint8Array, index: number, final: boolean): Uint8Array {
    return aeadDecryptInto(out, this.#key, this.#nonceFor(index, final), sealed);
  }

  /** Opens chunk `index` given as ciphertext and tag apart into `out`, which may be the ciphertext (in place). */
  openDetached(out: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, index: number, final: boolean): void {
    aeadDecryptDetachedInto(out, this.#key, this.#nonceFor(index, final), ciphertext, tag);
  }

  /** As openDetached, into a new array (the same call as GcmChunkCipher's, which can only decrypt into one of its own). */
  opened(ciphertext: Uint8Array, tag: Uint8Array, index: number, final: boolean): Uint8Array {
    const out = new Uint8Array(ciphertext.length);
    this.openDetached(out, ciphertext, tag, index, final);
    return out;
  }

  #nonceFor(index: number, final: boolean): Uint8Array {
    if (!Number.isSafeInteger(index) || index < 0 || index > MAX_INDEX) throw new CryptoError('chunk index out of range');
    const view = new DataView(this.#nonce.buffer, this.#nonce.byteOffset, this.#nonce.length);
    view.setUint32(CHUNK_NONCE_PREFIX_BYTES, Math.floor(index / 2 ** 32));
    view.setUint32(CHUNK_NONCE_PREFIX_BYTES + 4, index >>> 0);
    this.#nonce[AEAD_NONCE_BYTES - 1] = final ? 1 : 0;
    return this.#nonce;
  }
}
