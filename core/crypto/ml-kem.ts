// ML-KEM-768 (FIPS 203), the post-quantum half of session set-up. libsodium has no ML-KEM, so this module is the
// one place that reaches OpenSSL's (3.5, through node:crypto): it encapsulates in about 35 us and decapsulates in
// about 45 us here, several times faster than the JavaScript implementations on npm. core/protocol calls only
// these functions, never node:crypto itself.
//
// A decapsulation key is kept as its 64-byte seed (d || z, FIPS 203 section 7.1), the form the standard recommends
// storing: a device holds up to a thousand one-time keys, and the expanded key is 2,400 bytes. The seed is drawn
// from libsodium's CSPRNG like every other key; the 32 random bytes of each encapsulation come from OpenSSL's
// CSPRNG (node:crypto takes no caller randomness there), which is also seeded from the operating system.
import { createPrivateKey, createPublicKey, decapsulate, encapsulate, type KeyObject } from 'node:crypto';
import { blake2b, CryptoError, randomBytes, toHex } from './sodium.ts';

export const ML_KEM_768_PUBLIC_KEY_BYTES = 1184;
export const ML_KEM_768_CIPHERTEXT_BYTES = 1088;
export const ML_KEM_768_SEED_BYTES = 64;
export const ML_KEM_SHARED_SECRET_BYTES = 32;

export interface KemKeyPair {
  publicKey: Uint8Array; // 1184 bytes, the encapsulation key
  seed: Uint8Array; // 64 bytes, from which the decapsulation key is derived
}

const plain = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes); // Buffers may share Node's pool

/** Copies a secret out of the Buffer node:crypto returned, and wipes that Buffer. */
function takeSecret(buffer: Buffer): Uint8Array {
  const secret = plain(buffer);
  buffer.fill(0);
  return secret;
}

function importSeed(seed: Uint8Array): KeyObject {
  if (seed.length !== ML_KEM_768_SEED_BYTES) throw new CryptoError(`ML-KEM-768 seed must be ${ML_KEM_768_SEED_BYTES} bytes`);
  return createPrivateKey({ key: Buffer.from(seed.buffer, seed.byteOffset, seed.length), format: 'raw-seed', asymmetricKeyType: 'ml-kem-768' });
}

// Expanding a seed costs OpenSSL about 145 us here (the key generation and the checks it runs on an imported private
// key), three times a decapsulation. So decapsulation keys are kept expanded once this process has
// made or loaded them (kemKeyPair, kemPreload), by a digest of their seed (no second copy of the secret), and a
// one-time key is dropped once used. Bounded: about 10 KB each; a miss only costs the expansion again. Least recently
// used goes first.
const EXPANDED_KEYS_KEPT = 256;
const expandedKeys = new Map<string, { key: KeyObject; publicKey: Uint8Array }>();
const seedDigest = (seed: Uint8Array) => toHex(blake2b(seed, 16));

function expand(seed: Uint8Array): { key: KeyObject; publicKey: Uint8Array } {
  const key = importSeed(seed);
  return { key, publicKey: plain(createPublicKey(key).export({ format: 'raw-public' })) };
}

function keepExpanded(digest: string, expanded: { key: KeyObject; publicKey: Uint8Array }): void {
  expandedKeys.delete(digest);
  expandedKeys.set(digest, expanded);
  if (expandedKeys.size > EXPANDED_KEYS_KEPT) expandedKeys.delete(expandedKeys.keys().next().value!);
}

/** Expands decapsulation keys ahead of use (a device's current prekeys); beyond the bound, the last ones given win. */
export function kemPreload(seeds: Uint8Array[]): void {
  for (const seed of seeds.slice(-EXPANDED_KEYS_KEPT)) {
    const digest = seedDigest(seed);
    keepExpanded(digest, expandedKeys.get(digest) ?? expand(seed));
  }
}

/** A key pair from `seed` (64 bytes), or from a fresh random seed. */
export function kemKeyPair(seed: Uint8Array = randomBytes(ML_KEM_768_SEED_BYTES)): KemKeyPair {
  const expanded = expand(seed);
  keepExpanded(seedDigest(seed), expanded);
  return { publicKey: new Uint8Array(expanded.publicKey), seed };
}

/**
 * Encapsulates to a public key: the shared secret and the ciphertext that carries it. Throws CryptoError for a
 * public key that is not a valid ML-KEM-768 encapsulation key (wrong length, or a coefficient not reduced modulo q:
 * the FIPS 203 section 7.2 input check, which OpenSSL performs on import).
 */
export function kemEncapsulate(publicKey: Uint8Array): { sharedSecret: Uint8Array; ciphertext: Uint8Array } {
  if (publicKey.length !== ML_KEM_768_PUBLIC_KEY_BYTES) throw new CryptoError(`ML-KEM-768 public key must be ${ML_KEM_768_PUBLIC_KEY_BYTES} bytes`);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.length), format: 'raw-public', asymmetricKeyType: 'ml-kem-768' });
  } catch {
    throw new CryptoError('not a valid ML-KEM-768 public key');
  }
  const { sharedKey, ciphertext } = encapsulate(key);
  return { sharedSecret: takeSecret(sharedKey), ciphertext: plain(ciphertext) };
}

/**
 * The shared secret a ciphertext carries, and the public key of `seed` (callers bind both into their transcript;
 * exporting it here spares a second key derivation). A ciphertext that was not made for this key does not throw:
 * ML-KEM's implicit rejection returns an unrelated pseudorandom secret, so the caller's key confirmation (an AEAD)
 * is what fails. Only a ciphertext of the wrong length is a CryptoError. `reused`: false for a one-time key, whose
 * expanded form is then forgotten.
 */
export function kemDecapsulate(seed: Uint8Array, ciphertext: Uint8Array, reused = true): { sharedSecret: Uint8Array; publicKey: Uint8Array } {
  if (ciphertext.length !== ML_KEM_768_CIPHERTEXT_BYTES) throw new CryptoError(`ML-KEM-768 ciphertext must be ${ML_KEM_768_CIPHERTEXT_BYTES} bytes`);
  const digest = seedDigest(seed);
  const expanded = expandedKeys.get(digest) ?? expand(seed);
  if (reused) keepExpanded(digest, expanded);
  else expandedKeys.delete(digest);
  const sharedSecret = decapsulate(expanded.key, Buffer.from(ciphertext.buffer, ciphertext.byteOffset, ciphertext.length));
  return { sharedSecret: takeSecret(sharedSecret), publicKey: new Uint8Array(expanded.publicKey) };
}
