// The only module that imports libsodium. Everything else in Wardroom calls these typed functions, so an
// auditor can see every primitive the project uses in one place, and known-answer tests can pin each one.
//
// libsodium-wrappers-sumo is needed (not the plain build) because only the sumo build has crypto_pwhash
// (Argon2id). Its WASM must be initialised once; top-level await does that before any caller runs.
import sodium from 'libsodium-wrappers-sumo';

await sodium.ready;

export const SODIUM_VERSION: string = sodium.SODIUM_VERSION_STRING;

export const AEAD_KEY_BYTES = 32;
export const AEAD_NONCE_BYTES = 24;
export const AEAD_TAG_BYTES = 16;
export const SIGN_PUBLIC_BYTES = 32;
export const SIGN_SECRET_BYTES = 64;
export const SIGNATURE_BYTES = 64;
export const DH_BYTES = 32;

export class CryptoError extends Error {
  override readonly name = 'CryptoError';
}

// ---------------------------------------------------------------- memory

/** Overwrites key material in place. JS cannot promise no copies exist, but every buffer we own is wiped. */
export function memzero(bytes: Uint8Array): void {
  sodium.memzero(bytes);
}

/** Constant-time equality for secrets and MACs; false (not an exception) for different lengths. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return sodium.memcmp(a, b);
}

// ---------------------------------------------------------------- Ed25519 (RFC 8032)

export interface SigningKeyPair {
  publicKey: Uint8Array; // 32 bytes
  secretKey: Uint8Array; // 64 bytes: seed || public key, libsodium's layout
}

export function signingKeyPair(seed?: Uint8Array): SigningKeyPair {
  const pair = seed ? sodium.crypto_sign_seed_keypair(seed) : sodium.crypto_sign_keypair();
  return { publicKey: pair.publicKey, secretKey: pair.privateKey };
}

export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return sodium.crypto_sign_detached(message, secretKey);
}

export function verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_BYTES || publicKey.length !== SIGN_PUBLIC_BYTES) return false;
  try {
    return sodium.crypto_sign_verify_detached(signature, message, publicKey);
  } catch {
    return false; // libsodium throws on some invalid points; to callers that is simply "not valid"
  }
}

// ---------------------------------------------------------------- X25519 (RFC 7748)

export interface DhKeyPair {
  publicKey: Uint8Array; // 32 bytes
  secretKey: Uint8Array; // 32 bytes
}

export function dhKeyPair(secretKey?: Uint8Array): DhKeyPair {
  const secret = secretKey ?? randomBytes(DH_BYTES);
  return { publicKey: sodium.crypto_scalarmult_base(secret), secretKey: secret };
}

/** X25519 shared secret. Throws CryptoError on an all-zero result (a low-order public key). */
export function dh(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== DH_BYTES || secretKey.length !== DH_BYTES) throw new CryptoError('X25519 key has the wrong length');
  try {
    return sodium.crypto_scalarmult(secretKey, publicKey);
  } catch {
    throw new CryptoError('X25519 produced no shared secret (low-order public key)');
  }
}

// ---------------------------------------------------------------- XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha)

export function aeadEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, associatedData: Uint8Array | null = null): Uint8Array {
  return sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, associatedData, null, nonce, key);
}

/** Throws CryptoError when the ciphertext, nonce, key or associated data do not authenticate. */
export function aeadDecrypt(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, associatedData: Uint8Array | null = null): Uint8Array {
  if (ciphertext.length < AEAD_TAG_BYTES) throw new CryptoError('ciphertext shorter than its tag');
  try {
    return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, ciphertext, associatedData, nonce, key);
  } catch {
    throw new CryptoError('ciphertext did not authenticate');
  }
}

/** Encrypts with a fresh random nonce and returns nonce || ciphertext: the form used for stored wraps. */
export function sealWithRandomNonce(key: Uint8Array, plaintext: Uint8Array, associatedData: Uint8Array | null = null): Uint8Array {
  const nonce = randomBytes(AEAD_NONCE_BYTES);
  const sealed = aeadEncrypt(key, nonce, plaintext, associatedData);
  const out = new Uint8Array(AEAD_NONCE_BYTES + sealed.length);
  out.set(nonce, 0);
  out.set(sealed, AEAD_NONCE_BYTES);
  return out;
}

export function openWithPrefixedNonce(key: Uint8Array, box: Uint8Array, associatedData: Uint8Array | null = null): Uint8Array {
  if (box.length < AEAD_NONCE_BYTES + AEAD_TAG_BYTES) throw new CryptoError('sealed box is truncated');
  return aeadDecrypt(key, box.subarray(0, AEAD_NONCE_BYTES), box.subarray(AEAD_NONCE_BYTES), associatedData);
}

// ---------------------------------------------------------------- streaming AEAD (secretstream) for files

export const STREAM_HEADER_BYTES: number = sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES;
export const STREAM_TAG_BYTES: number = sodium.crypto_secretstream_xchacha20poly1305_ABYTES;
export const STREAM_TAG_MESSAGE: number = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
export const STREAM_TAG_FINAL: number = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL;

export interface StreamPusher {
  header: Uint8Array;
  push(chunk: Uint8Array, final: boolean): Uint8Array;
}

export interface StreamPuller {
  /** Returns the plaintext and whether this chunk was marked final; throws CryptoError if it does not authenticate. */
  pull(chunk: Uint8Array): { plaintext: Uint8Array; final: boolean };
}

/** crypto_secretstream_xchacha20poly1305: chunks cannot be reordered, dropped or truncated without detection. */
export function streamPusher(key: Uint8Array): StreamPusher {
  const { state, header } = sodium.crypto_secretstream_xchacha20poly1305_init_push(key);
  return {
    header,
    push: (chunk, final) =>
      sodium.crypto_secretstream_xchacha20poly1305_push(state, chunk, null, final ? STREAM_TAG_FINAL : STREAM_TAG_MESSAGE),
  };
}

export function streamPuller(key: Uint8Array, header: Uint8Array): StreamPuller {
  let state: ReturnType<typeof sodium.crypto_secretstream_xchacha20poly1305_init_pull>;
  try {
    state = sodium.crypto_secretstream_xchacha20poly1305_init_pull(header, key);
  } catch {
    throw new CryptoError('stream header is invalid');
  }
  return {
    pull(chunk) {
      const result = sodium.crypto_secretstream_xchacha20poly1305_pull(state, chunk, null);
      if (!result) throw new CryptoError('stream chunk did not authenticate');
      return { plaintext: result.message, final: result.tag === STREAM_TAG_FINAL };
    },
  };
}

// ---------------------------------------------------------------- hashing and key derivation

/** BLAKE2b (RFC 7693), optionally keyed. */
export function blake2b(data: Uint8Array, length = 32, key: Uint8Array | null = null): Uint8Array {
  return sodium.crypto_generichash(length, data, key);
}

export function sha256(data: Uint8Array): Uint8Array {
  return sodium.crypto_hash_sha256(data);
}

export function sha512(data: Uint8Array): Uint8Array {
  return sodium.crypto_hash_sha512(data);
}

export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  // libsodium's one-shot crypto_auth_hmacsha256 requires a 32-byte key; HMAC itself takes any length.
  const state = sodium.crypto_auth_hmacsha256_init(key);
  sodium.crypto_auth_hmacsha256_update(state, data);
  return sodium.crypto_auth_hmacsha256_final(state);
}

/**
 * HKDF-SHA256 (RFC 5869) over libsodium's HMAC-SHA256. The wrappers expose no HKDF function, and this is the
 * construction the Signal specifications (X3DH, Double Ratchet) name. `info` must be a distinct label per purpose.
 */
export function hkdfSha256(inputKeyMaterial: Uint8Array, salt: Uint8Array | null, info: Uint8Array | string, length: number): Uint8Array {
  if (length <= 0 || length > 255 * 32) throw new CryptoError('HKDF output length out of range');
  const infoBytes = typeof info === 'string' ? utf8(info) : info;
  const prk = hmacSha256(salt && salt.length > 0 ? salt : new Uint8Array(32), inputKeyMaterial);
  const out = new Uint8Array(length);
  let previous: Uint8Array = new Uint8Array(0);
  for (let block = 1, offset = 0; offset < length; block++) {
    const input = new Uint8Array(previous.length + infoBytes.length + 1);
    input.set(previous, 0);
    input.set(infoBytes, previous.length);
    input[input.length - 1] = block;
    previous = hmacSha256(prk, input);
    out.set(previous.subarray(0, Math.min(32, length - offset)), offset);
    offset += 32;
  }
  memzero(prk);
  return out;
}

// ---------------------------------------------------------------- Argon2id (RFC 9106)

export interface Argon2idParams {
  opsLimit: number;
  memLimitBytes: number;
}

export const ARGON2ID_SALT_BYTES: number = sodium.crypto_pwhash_SALTBYTES;
/** libsodium's "moderate" profile: ~0.8 s and 256 MiB here, the cost we accept once per unlock. */
export const ARGON2ID_MODERATE: Argon2idParams = {
  opsLimit: sodium.crypto_pwhash_OPSLIMIT_MODERATE,
  memLimitBytes: sodium.crypto_pwhash_MEMLIMIT_MODERATE,
};
/** libsodium's "interactive" profile; tests use it to stay fast, never production defaults. */
export const ARGON2ID_INTERACTIVE: Argon2idParams = {
  opsLimit: sodium.crypto_pwhash_OPSLIMIT_INTERACTIVE,
  memLimitBytes: sodium.crypto_pwhash_MEMLIMIT_INTERACTIVE,
};

export function argon2id(password: Uint8Array | string, salt: Uint8Array, params: Argon2idParams, length = 32): Uint8Array {
  if (salt.length !== ARGON2ID_SALT_BYTES) throw new CryptoError(`Argon2id salt must be ${ARGON2ID_SALT_BYTES} bytes`);
  return sodium.crypto_pwhash(length, password, salt, params.opsLimit, params.memLimitBytes, sodium.crypto_pwhash_ALG_ARGON2ID13);
}

// ---------------------------------------------------------------- encoding helpers

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Strict UTF-8 decode: invalid sequences throw rather than turn into replacement characters. */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

export function toHex(bytes: Uint8Array): string {
  return sodium.to_hex(bytes);
}

export function fromHex(hex: string): Uint8Array {
  return sodium.from_hex(hex);
}

export function toBase64Url(bytes: Uint8Array): string {
  return sodium.to_base64(bytes, sodium.base64_variants.URLSAFE_NO_PADDING);
}

export function fromBase64Url(text: string): Uint8Array {
  return sodium.from_base64(text, sodium.base64_variants.URLSAFE_NO_PADDING);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

// ---------------------------------------------------------------- randomness

const WEB_CRYPTO_MAX_BYTES = 65_536;

/**
 * Random bytes from the operating system's CSPRNG via Web Crypto (crypto.getRandomValues, built into Node).
 * libsodium.js's randombytes_buf asks Node's crypto for 4 bytes at a time; measured here it costs ~11 us per byte
 * (16 bytes ~200 us, 4 KiB ~45 ms), which dominated key generation and message ids. Same source, ~30x faster for
 * 16 bytes. Every random value in Wardroom (keys, seeds, nonces, ids) comes from here.
 */
export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let offset = 0; offset < length; offset += WEB_CRYPTO_MAX_BYTES) {
    globalThis.crypto.getRandomValues(out.subarray(offset, Math.min(length, offset + WEB_CRYPTO_MAX_BYTES)));
  }
  return out;
}

// ---------------------------------------------------------------- per-message key derivation (appended by the protocol library)

/**
 * HMAC-SHA256 with a 32-byte key in one libsodium call (crypto_auth_hmacsha256). Same function as hmacSha256, about
 * three times cheaper in the WASM build than its init/update/final form; the ratchets call it several times per message.
 */
export function hmacSha256Key32(key: Uint8Array, data: Uint8Array): Uint8Array {
  if (key.length !== 32) throw new CryptoError('hmacSha256Key32 needs a 32-byte key');
  return sodium.crypto_auth_hmacsha256(data, key);
}

/**
 * HKDF-Expand-SHA256 (RFC 5869 section 2.3) from a 32-byte pseudorandom key. For inputs that are already uniform
 * keys (RFC 5869 section 3.3 allows skipping Extract then), such as a ratchet's message key.
 */
export function hkdfExpandSha256(prk: Uint8Array, info: Uint8Array | string, length: number): Uint8Array {
  if (length <= 0 || length > 255 * 32) throw new CryptoError('HKDF output length out of range');
  const infoBytes = typeof info === 'string' ? utf8(info) : info;
  const out = new Uint8Array(length);
  let previous: Uint8Array = new Uint8Array(0);
  for (let block = 1, offset = 0; offset < length; block++, offset += 32) {
    previous = hmacSha256Key32(prk, concatBytes(previous, infoBytes, Uint8Array.of(block)));
    out.set(previous.subarray(0, Math.min(32, length - offset)), offset);
  }
  return out;
}
