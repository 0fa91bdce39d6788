// The only module that imports libsodium. Everything else in Wardroom calls these typed functions, so an
// auditor can see every primitive the project uses in one place, and known-answer tests can pin each one.
//
// libsodium is reached through sodium-native, its Node binding to the compiled C library (prebuilt N-API addons,
// which also load in Electron and in worker threads), not through libsodium.js's WebAssembly build. Same library,
// same primitives, byte-identical outputs (the known-answer tests pin them), but measured on this machine the native
// build signs 2.3x, verifies 2x, runs X25519 3.2x and XChaCha20-Poly1305 3.5x faster, which is the whole of the
// per-message budget for a channel message. The engine runs only in Node (the CLI, Electron's main process, the web
// shell's host), never in a browser, so nothing needs the WASM build.
import sodium from 'sodium-native';

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
  sodium.sodium_memzero(bytes);
}

/** Constant-time equality for secrets and MACs; false (not an exception) for different lengths. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return sodium.sodium_memcmp(a, b);
}

// ---------------------------------------------------------------- Ed25519 (RFC 8032)

export interface SigningKeyPair {
  publicKey: Uint8Array; // 32 bytes
  secretKey: Uint8Array; // 64 bytes: seed || public key, libsodium's layout
}

export function signingKeyPair(seed?: Uint8Array): SigningKeyPair {
  const publicKey = new Uint8Array(SIGN_PUBLIC_BYTES);
  const secretKey = new Uint8Array(SIGN_SECRET_BYTES);
  if (seed) {
    if (seed.length !== sodium.crypto_sign_SEEDBYTES) throw new CryptoError(`Ed25519 seed must be ${sodium.crypto_sign_SEEDBYTES} bytes`);
    sodium.crypto_sign_seed_keypair(publicKey, secretKey, seed);
  } else {
    sodium.crypto_sign_keypair(publicKey, secretKey);
  }
  return { publicKey, secretKey };
}

export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  if (secretKey.length !== SIGN_SECRET_BYTES) throw new CryptoError(`Ed25519 secret key must be ${SIGN_SECRET_BYTES} bytes`);
  const signature = new Uint8Array(SIGNATURE_BYTES);
  sodium.crypto_sign_detached(signature, message, secretKey);
  return signature;
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
  if (secret.length !== DH_BYTES) throw new CryptoError('X25519 key has the wrong length');
  const publicKey = new Uint8Array(DH_BYTES);
  sodium.crypto_scalarmult_base(publicKey, secret);
  return { publicKey, secretKey: secret };
}

/** X25519 shared secret. Throws CryptoError on an all-zero result (a low-order public key). */
export function dh(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== DH_BYTES || secretKey.length !== DH_BYTES) throw new CryptoError('X25519 key has the wrong length');
  const shared = new Uint8Array(DH_BYTES);
  try {
    sodium.crypto_scalarmult(shared, secretKey, publicKey);
    return shared;
  } catch {
    throw new CryptoError('X25519 produced no shared secret (low-order public key)');
  }
}

// ---------------------------------------------------------------- XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha)

function checkAeadKeyAndNonce(key: Uint8Array, nonce: Uint8Array): void {
  if (key.length !== AEAD_KEY_BYTES) throw new CryptoError(`AEAD key must be ${AEAD_KEY_BYTES} bytes`);
  if (nonce.length !== AEAD_NONCE_BYTES) throw new CryptoError(`AEAD nonce must be ${AEAD_NONCE_BYTES} bytes`);
}

export function aeadEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, associatedData: Uint8Array | null = null): Uint8Array {
  return aeadEncryptInto(new Uint8Array(plaintext.length + AEAD_TAG_BYTES), key, nonce, plaintext, associatedData);
}

/**
 * aeadEncrypt writing into `out`, which must be exactly plaintext.length + AEAD_TAG_BYTES long (often a view into a
 * larger buffer, so the ciphertext is not copied again). Returns `out`.
 */
export function aeadEncryptInto(out: Uint8Array, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, associatedData: Uint8Array | null = null): Uint8Array {
  checkAeadKeyAndNonce(key, nonce);
  if (out.length !== plaintext.length + AEAD_TAG_BYTES) throw new CryptoError('AEAD output buffer has the wrong length');
  sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(out, plaintext, associatedData, null, nonce, key);
  return out;
}

/** Throws CryptoError when the ciphertext, nonce, key or associated data do not authenticate. */
export function aeadDecrypt(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, associatedData: Uint8Array | null = null): Uint8Array {
  if (ciphertext.length < AEAD_TAG_BYTES) throw new CryptoError('ciphertext shorter than its tag');
  checkAeadKeyAndNonce(key, nonce);
  const plaintext = new Uint8Array(ciphertext.length - AEAD_TAG_BYTES);
  try {
    sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(plaintext, null, ciphertext, associatedData, nonce, key);
    return plaintext;
  } catch {
    throw new CryptoError('ciphertext did not authenticate');
  }
}

/** aeadDecrypt writing into `out` (exactly ciphertext.length - AEAD_TAG_BYTES long). Returns `out`. */
export function aeadDecryptInto(out: Uint8Array, key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, associatedData: Uint8Array | null = null): Uint8Array {
  if (ciphertext.length < AEAD_TAG_BYTES) throw new CryptoError('ciphertext shorter than its tag');
  checkAeadKeyAndNonce(key, nonce);
  if (out.length !== ciphertext.length - AEAD_TAG_BYTES) throw new CryptoError('AEAD output buffer has the wrong length');
  try {
    sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(out, null, ciphertext, associatedData, nonce, key);
    return out;
  } catch {
    throw new CryptoError('ciphertext did not authenticate');
  }
}

/**
 * aeadDecryptInto with the tag apart from the ciphertext, `out` (ciphertext.length) possibly the ciphertext itself:
 * libsodium checks the tag before it writes a byte, so a chunk that does not authenticate leaves `out` untouched.
 */
export function aeadDecryptDetachedInto(out: Uint8Array, key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array): Uint8Array {
  checkAeadKeyAndNonce(key, nonce);
  if (out.length !== ciphertext.length || tag.length !== AEAD_TAG_BYTES) throw new CryptoError('AEAD buffers have the wrong length');
  try {
    sodium.crypto_aead_xchacha20poly1305_ietf_decrypt_detached(out, null, ciphertext, tag, null, nonce, key);
    return out;
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
const STREAM_STATE_BYTES: number = sodium.crypto_secretstream_xchacha20poly1305_STATEBYTES;
const STREAM_KEY_BYTES: number = sodium.crypto_secretstream_xchacha20poly1305_KEYBYTES;
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
  if (key.length !== STREAM_KEY_BYTES) throw new CryptoError(`stream key must be ${STREAM_KEY_BYTES} bytes`);
  const state = new Uint8Array(STREAM_STATE_BYTES);
  const header = new Uint8Array(STREAM_HEADER_BYTES);
  sodium.crypto_secretstream_xchacha20poly1305_init_push(state, header, key);
  return {
    header,
    push(chunk, final) {
      const sealed = new Uint8Array(chunk.length + STREAM_TAG_BYTES);
      sodium.crypto_secretstream_xchacha20poly1305_push(state, sealed, chunk, null, final ? STREAM_TAG_FINAL : STREAM_TAG_MESSAGE);
      return sealed;
    },
  };
}

export function streamPuller(key: Uint8Array, header: Uint8Array): StreamPuller {
  if (key.length !== STREAM_KEY_BYTES) throw new CryptoError(`stream key must be ${STREAM_KEY_BYTES} bytes`);
  if (header.length !== STREAM_HEADER_BYTES) throw new CryptoError('stream header is invalid');
  const state = new Uint8Array(STREAM_STATE_BYTES);
  sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, header, key);
  const tag = new Uint8Array(1);
  return {
    pull(chunk) {
      if (chunk.length < STREAM_TAG_BYTES) throw new CryptoError('stream chunk is shorter than its tag');
      const plaintext = new Uint8Array(chunk.length - STREAM_TAG_BYTES);
      try {
        sodium.crypto_secretstream_xchacha20poly1305_pull(state, plaintext, tag, chunk, null);
      } catch {
        throw new CryptoError('stream chunk did not authenticate');
      }
      return { plaintext, final: tag[0] === STREAM_TAG_FINAL };
    },
  };
}

// ---------------------------------------------------------------- hashing and key derivation

/** BLAKE2b (RFC 7693), optionally keyed. */
export function blake2b(data: Uint8Array, length = 32, key: Uint8Array | null = null): Uint8Array {
  if (length < sodium.crypto_generichash_BYTES_MIN || length > sodium.crypto_generichash_BYTES_MAX) throw new CryptoError('BLAKE2b output length out of range');
  if (key && (key.length < sodium.crypto_generichash_KEYBYTES_MIN || key.length > sodium.crypto_generichash_KEYBYTES_MAX)) throw new CryptoError('BLAKE2b key length out of range');
  const out = new Uint8Array(length);
  if (key) sodium.crypto_generichash(out, data, key);
  else sodium.crypto_generichash(out, data);
  return out;
}

export interface IncrementalHash {
  update(data: Uint8Array): void;
  digest(): Uint8Array;
}

/** BLAKE2b-256 over data given in parts (a file as it streams). */
export function blake2bHasher(): IncrementalHash {
  const state = new Uint8Array(sodium.crypto_generichash_STATEBYTES);
  sodium.crypto_generichash_init(state, null, 32);
  return {
    update: (data) => sodium.crypto_generichash_update(state, data),
    digest() {
      const out = new Uint8Array(32);
      sodium.crypto_generichash_final(state, out);
      return out;
    },
  };
}

export function sha256(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  sodium.crypto_hash_sha256(out, data);
  return out;
}

export function sha512(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(64);
  sodium.crypto_hash_sha512(out, data);
  return out;
}

const SHA256_BLOCK_BYTES = 64;
const SHA256_BYTES = 32;
/** Reused for the padded key and short messages: a fresh ArrayBuffer per call costs more than the hashing here. */
const hmacScratch = new Uint8Array(SHA256_BLOCK_BYTES + 256);
const hmacInner = new Uint8Array(SHA256_BYTES);

/**
 * HMAC-SHA256 (RFC 2104 / FIPS 198-1) of the concatenation of `data`, over libsodium's SHA-256, with a key of any
 * length: H(K^opad || H(K^ipad || m)). sodium-native does not expose libsodium's crypto_auth_hmacsha256, and Node's
 * createHmac costs 28-38 us a call here (OpenSSL context set-up) against about 4 us for this; the ratchets call it
 * several times per message. Taking the message in parts spares HKDF a concatenation per block. RFC 4231's vectors
 * pin it. The scratch buffers are wiped before returning; JavaScript is single-threaded, so no call can observe
 * another's.
 */
export function hmacSha256(key: Uint8Array, ...data: Uint8Array[]): Uint8Array {
  let dataLength = 0;
  for (const part of data) dataLength += part.length;
  const used = SHA256_BLOCK_BYTES + Math.max(dataLength, SHA256_BYTES);
  const input = used <= hmacScratch.length ? hmacScratch : new Uint8Array(used);
  input.fill(0, 0, SHA256_BLOCK_BYTES);
  input.set(key.length > SHA256_BLOCK_BYTES ? sha256(key) : key, 0);
  for (let i = 0; i < SHA256_BLOCK_BYTES; i++) input[i]! ^= 0x36;
  let at = SHA256_BLOCK_BYTES;
  for (const part of data) {
    input.set(part, at);
    at += part.length;
  }
  sodium.crypto_hash_sha256(hmacInner, input.subarray(0, SHA256_BLOCK_BYTES + dataLength));
  for (let i = 0; i < SHA256_BLOCK_BYTES; i++) input[i]! ^= 0x36 ^ 0x5c;
  input.set(hmacInner, SHA256_BLOCK_BYTES);
  const out = new Uint8Array(SHA256_BYTES);
  sodium.crypto_hash_sha256(out, input.subarray(0, SHA256_BLOCK_BYTES + SHA256_BYTES));
  input.fill(0, 0, used);
  hmacInner.fill(0);
  return out;
}

/**
 * HKDF-SHA256 (RFC 5869) over HMAC-SHA256: the construction the Signal specifications (X3DH, Double Ratchet) name.
 * `info` must be a distinct label per purpose.
 */
export function hkdfSha256(inputKeyMaterial: Uint8Array, salt: Uint8Array | null, info: Uint8Array | string, length: number): Uint8Array {
  if (length <= 0 || length > 255 * 32) throw new CryptoError('HKDF output length out of range');
  const prk = hmacSha256(salt && salt.length > 0 ? salt : new Uint8Array(32), inputKeyMaterial); // HKDF-Extract
  const out = hkdfExpandSha256(prk, info, length);
  memzero(prk);
  return out;
}

/**
 * HKDF-Expand-SHA256 (RFC 5869 section 2.3) from a 32-byte pseudorandom key. For inputs that are already uniform
 * keys (RFC 5869 section 3.3 allows skipping Extract then), such as a ratchet's message key.
 */
export function hkdfExpandSha256(prk: Uint8Array, info: Uint8Array | string, length: number): Uint8Array {
  if (length <= 0 || length > 255 * 32) throw new CryptoError('HKDF output length out of range');
  const infoBytes = typeof info === 'string' ? labelBytes(info) : info;
  const out = new Uint8Array(length);
  const counter = new Uint8Array(1);
  let previous: Uint8Array = new Uint8Array(0);
  for (let block = 1, offset = 0; offset < length; block++, offset += 32) {
    counter[0] = block;
    previous = hmacSha256(prk, previous, infoBytes, counter); // T(n) = HMAC(PRK, T(n-1) | info | n)
    out.set(previous.subarray(0, Math.min(32, length - offset)), offset);
  }
  return out;
}

/** KDF labels are a small fixed set of constants (core/protocol/labels.ts): each is encoded once. */
const encodedLabels = new Map<string, Uint8Array>();
function labelBytes(label: string): Uint8Array {
  let bytes = encodedLabels.get(label);
  if (!bytes) {
    bytes = utf8(label);
    if (encodedLabels.size < 256) encodedLabels.set(label, bytes); // bounded, should a caller pass other strings
  }
  return bytes;
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
  const out = new Uint8Array(length);
  const passwordBytes = typeof password === 'string' ? utf8(password) : password;
  sodium.crypto_pwhash(out, passwordBytes, salt, params.opsLimit, params.memLimitBytes, sodium.crypto_pwhash_ALG_ARGON2ID13);
  return out;
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

// Node's Buffer codecs are fast but lenient (they skip bad characters and stop at odd lengths), so the decoders
// check the alphabet and length first: malformed text is an error, never silently shorter bytes.
const HEX = /^(?:[0-9a-fA-F]{2})*$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** A copy as a plain Uint8Array: Buffers from Buffer.from may share Node's pool and compare unequal to Uint8Arrays. */
function plainCopy(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer);
}

export function toHex(bytes: Uint8Array): string {
  return asBuffer(bytes).toString('hex');
}

export function fromHex(hex: string): Uint8Array {
  if (!HEX.test(hex)) throw new CryptoError('invalid hex');
  return plainCopy(Buffer.from(hex, 'hex'));
}

export function toBase64Url(bytes: Uint8Array): string {
  return asBuffer(bytes).toString('base64url');
}

/** Unpadded base64url, canonical only: a text whose unused trailing bits are set does not decode. */
export function fromBase64Url(text: string): Uint8Array {
  if (!BASE64URL.test(text) || text.length % 4 === 1) throw new CryptoError('invalid base64url');
  const decoded = Buffer.from(text, 'base64url');
  if (decoded.toString('base64url') !== text) throw new CryptoError('invalid base64url (non-canonical)');
  return plainCopy(decoded);
}

/** Below this size allocBytes draws from Node's buffer pool (Buffer.poolSize is 8 KiB; it pools up to half). */
const POOLED_MAX_BYTES = 4096;

/**
 * A plain Uint8Array of `length` bytes whose contents are UNDEFINED, for short-lived buffers on the per-message path
 * that the caller overwrites completely. Small ones are views into Node's buffer pool: on this machine a fresh 1 KiB
 * ArrayBuffer costs about 2.4 us and a pooled slice 0.2 us. Not for anything kept: a small view keeps its whole 8 KiB
 * pool slab alive, so keys, decoded fields and frames get their own memory (`new Uint8Array`).
 */
export function allocBytes(length: number): Uint8Array {
  if (length > POOLED_MAX_BYTES) return new Uint8Array(length);
  const pooled = Buffer.allocUnsafe(length);
  return new Uint8Array(pooled.buffer, pooled.byteOffset, length);
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

const RANDOM_POOL_BYTES = 4096;
const RANDOM_POOLED_MAX = 256;
const randomPool = new Uint8Array(RANDOM_POOL_BYTES);
let randomPoolUsed = RANDOM_POOL_BYTES; // empty until first use

/**
 * Random bytes from libsodium's randombytes_buf (its CSPRNG, seeded from the operating system: getrandom(2) on
 * Linux). Every random value in Wardroom (keys, seeds, nonces, ids) comes from here. Small requests are served from
 * a 4 KiB block drawn in one call, because each call costs a native transition (inside a busy send path, about
 * 4 us for a 16-byte id); every byte served is wiped from the block at once, so no two callers can ever get the
 * same bytes and none stay behind. Larger requests go straight to libsodium.
 */
export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  if (length > RANDOM_POOLED_MAX) {
    sodium.randombytes_buf(out);
    return out;
  }
  if (randomPoolUsed + length > RANDOM_POOL_BYTES) {
    sodium.randombytes_buf(randomPool);
    randomPoolUsed = 0;
  }
  const served = randomPool.subarray(randomPoolUsed, randomPoolUsed + length);
  out.set(served);
  served.fill(0);
  randomPoolUsed += length;
  return out;
}
