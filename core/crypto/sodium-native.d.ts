// Types for the part of sodium-native (libsodium's Node binding) that core/crypto/sodium.ts calls. The binding
// writes into caller-provided typed arrays and throws on failure; @types/sodium-native describes an older
// Buffer-only release, so these few signatures are declared here against Uint8Array.
declare module 'sodium-native' {
  type Bytes = Uint8Array;
  const sodium: {
    sodium_memzero(buffer: Bytes): void;
    sodium_memcmp(a: Bytes, b: Bytes): boolean;
    randombytes_buf(buffer: Bytes): void;

    crypto_sign_keypair(publicKey: Bytes, secretKey: Bytes): void;
    crypto_sign_seed_keypair(publicKey: Bytes, secretKey: Bytes, seed: Bytes): void;
    crypto_sign_detached(signature: Bytes, message: Bytes, secretKey: Bytes): void;
    crypto_sign_verify_detached(signature: Bytes, message: Bytes, publicKey: Bytes): boolean;
    crypto_sign_SEEDBYTES: number;

    crypto_scalarmult_base(publicKey: Bytes, secretKey: Bytes): void;
    crypto_scalarmult(shared: Bytes, secretKey: Bytes, publicKey: Bytes): void;

    crypto_aead_xchacha20poly1305_ietf_encrypt(ciphertext: Bytes, message: Bytes, ad: Bytes | null, nsec: null, nonce: Bytes, key: Bytes): number;
    crypto_aead_xchacha20poly1305_ietf_decrypt(message: Bytes, nsec: null, ciphertext: Bytes, ad: Bytes | null, nonce: Bytes, key: Bytes): number;
    crypto_aead_xchacha20poly1305_ietf_decrypt_detached(message: Bytes, nsec: null, ciphertext: Bytes, mac: Bytes, ad: Bytes | null, nonce: Bytes, key: Bytes): void;

    crypto_secretstream_xchacha20poly1305_init_push(state: Bytes, header: Bytes, key: Bytes): void;
    crypto_secretstream_xchacha20poly1305_push(state: Bytes, ciphertext: Bytes, message: Bytes, ad: Bytes | null, tag: number): number;
    crypto_secretstream_xchacha20poly1305_init_pull(state: Bytes, header: Bytes, key: Bytes): void;
    crypto_secretstream_xchacha20poly1305_pull(state: Bytes, message: Bytes, tag: Bytes, ciphertext: Bytes, ad: Bytes | null): number;
    crypto_secretstream_xchacha20poly1305_STATEBYTES: number;
    crypto_secretstream_xchacha20poly1305_KEYBYTES: number;
    crypto_secretstream_xchacha20poly1305_HEADERBYTES: number;
    crypto_secretstream_xchacha20poly1305_ABYTES: number;
    crypto_secretstream_xchacha20poly1305_TAG_MESSAGE: number;
    crypto_secretstream_xchacha20poly1305_TAG_FINAL: number;

    crypto_generichash(output: Bytes, input: Bytes, key?: Bytes): void;
    crypto_generichash_BYTES_MIN: number;
    crypto_generichash_BYTES_MAX: number;
    crypto_generichash_KEYBYTES_MIN: number;
    crypto_generichash_KEYBYTES_MAX: number;
    crypto_generichash_STATEBYTES: number;
    crypto_generichash_init(state: Bytes, key: Bytes | null, outputLength: number): void;
    crypto_generichash_update(state: Bytes, input: Bytes): void;
    crypto_generichash_final(state: Bytes, output: Bytes): void;
    crypto_hash_sha256(output: Bytes, input: Bytes): void;
    crypto_hash_sha512(output: Bytes, input: Bytes): void;

    crypto_pwhash(output: Bytes, password: Bytes, salt: Bytes, opsLimit: number, memLimit: number, algorithm: number): void;
    crypto_pwhash_SALTBYTES: number;
    crypto_pwhash_ALG_ARGON2ID13: number;
    crypto_pwhash_OPSLIMIT_MODERATE: number;
    crypto_pwhash_MEMLIMIT_MODERATE: number;
    crypto_pwhash_OPSLIMIT_INTERACTIVE: number;
    crypto_pwhash_MEMLIMIT_INTERACTIVE: number;
  };
  export default sodium;
}
