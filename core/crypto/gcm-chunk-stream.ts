// Chunked authenticated encryption for the vault's attachment files at rest (format 3, core/vault/attachment-file.ts):
// the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015) over AES-256-GCM from OpenSSL through
// node:crypto, as Tink's AES-GCM streaming AEAD lays it out: nonce = prefix (7 random bytes) || chunk index (4 bytes,
// big-endian) || final (1 byte), so a chunk cannot be moved, dropped, repeated or passed off as the last one.
//
// Why not libsodium's XChaCha20-Poly1305 (chunk-stream.ts) here as on the wire: the vault decrypts what it stores
// on every open, and OpenSSL's AES-GCM, on AES-NI and carry-less multiply, runs about twice libsodium's speed on
// this hardware (docs/benchmarks.md; DESIGN.md: bulk crypto is decided by benchmark). Each file has its own random
// key, so its 2^32 nonces are never reused under another file's. Files that travel (core/engine/files) stay on
// XChaCha20-Poly1305, whose nonces are safe to draw at random across senders.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { CryptoError } from './sodium.ts';

export const GCM_NONCE_PREFIX_BYTES = 7;
export const GCM_TAG_BYTES = 16;
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const MAX_INDEX = 2 ** 32 - 1;

export class GcmChunkCipher {
  readonly #key: Uint8Array;
  readonly #nonce = new Uint8Array(NONCE_BYTES);

  /** `key` stays the caller's to wipe (OpenSSL's own copies in each cipher context are cleansed when it is freed). */
  constructor(key: Uint8Array, prefix: Uint8Array) {
    if (key.length !== KEY_BYTES) throw new CryptoError(`an AES-256-GCM key is ${KEY_BYTES} bytes`);
    if (prefix.length !== GCM_NONCE_PREFIX_BYTES) throw new CryptoError(`a chunk nonce prefix is ${GCM_NONCE_PREFIX_BYTES} bytes`);
    this.#key = key;
    this.#nonce.set(prefix, 0);
  }

  /**
   * Seals `plaintext` as chunk `index`: its ciphertext, then its tag, as OpenSSL's own arrays (node:crypto cannot
   * encrypt into a given buffer, so handing these to writev is the copy-free way).
   */
  sealed(plaintext: Uint8Array, index: number, final: boolean): Uint8Array[] {
    const cipher = createCipheriv('aes-256-gcm', this.#key, this.#nonceFor(index, final), { authTagLength: GCM_TAG_BYTES });
    const body = cipher.update(plaintext);
    const rest = cipher.final(); // empty for GCM; kept so no byte OpenSSL holds back is lost
    return [body, ...(rest.length > 0 ? [rest] : []), cipher.getAuthTag()];
  }

  /** As `sealed`, into `out` (plaintext.length + GCM_TAG_BYTES: ciphertext, then tag). Returns `out`. */
  seal(out: Uint8Array, plaintext: Uint8Array, index: number, final: boolean): Uint8Array {
    if (out.length !== plaintext.length + GCM_TAG_BYTES) throw new CryptoError('chunk output buffer has the wrong length');
    let at = 0;
    for (const part of this.sealed(plaintext, index, final)) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  /**
   * Opens chunk `index` (its ciphertext and its tag given apart, as the reader scatters them) into a new array,
   * OpenSSL's own output: node:crypto has no way to decrypt into a given buffer, so this is the copy-free way.
   * Throws CryptoError, and returns nothing, unless the chunk authenticates.
   */
  opened(ciphertext: Uint8Array, tag: Uint8Array, index: number, final: boolean): Uint8Array {
    if (tag.length !== GCM_TAG_BYTES) throw new CryptoError('chunk buffers have the wrong length');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, this.#nonceFor(index, final), { authTagLength: GCM_TAG_BYTES });
    decipher.setAuthTag(tag);
    const plaintext = decipher.update(ciphertext);
    try {
      decipher.final();
    } catch {
      throw new CryptoError('chunk did not authenticate');
    }
    return plaintext;
  }

  /** As `opened`, into `out`, which may be `ciphertext` itself. Nothing is written to `out` unless the chunk authenticates. */
  openDetached(out: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, index: number, final: boolean): void {
    if (out.length !== ciphertext.length) throw new CryptoError('chunk buffers have the wrong length');
    out.set(this.opened(ciphertext, tag, index, final), 0);
  }

  #nonceFor(index: number, final: boolean): Uint8Array {
    if (!Number.isInteger(index) || index < 0 || index > MAX_INDEX) throw new CryptoError('chunk index out of range');
    new DataView(this.#nonce.buffer).setUint32(GCM_NONCE_PREFIX_BYTES, index);
    this.#nonce[NONCE_BYTES - 1] = final ? 1 : 0;
    return this.#nonce;
  }
}
