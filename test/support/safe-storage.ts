// A stand-in for Electron's safeStorage (whose runtime cannot run in these tests): it encrypts with
// XChaCha20-Poly1305 under a secret of its own, the way safeStorage encrypts under the OS user's keystore secret.
// Two instances are two keystores (another machine, or a keystore that was reset).
import { openWithPrefixedNonce, randomBytes, sealWithRandomNonce } from '../../core/crypto/sodium.ts';
import type { SafeStorageLike } from '../../electron/keystore.ts';

export function standInSafeStorage(options: { available?: boolean; backend?: string } = {}): SafeStorageLike & { calls: string[] } {
  const secret = randomBytes(32);
  const calls: string[] = [];
  return {
    calls,
    isAsyncEncryptionAvailable: async () => options.available ?? true,
    getSelectedStorageBackend: () => options.backend ?? 'gnome_libsecret',
    async encryptStringAsync(text) {
      calls.push('encrypt');
      return Buffer.from(sealWithRandomNonce(secret, new TextEncoder().encode(text)));
    },
    async decryptStringAsync(blob) {
      calls.push('decrypt');
      return { result: new TextDecoder().decode(openWithPrefixedNonce(secret, blob)), shouldReEncrypt: false };
    },
  };
}
