// A real KeystoreWrap for tests: wraps with XChaCha20-Poly1305 under a per-instance secret, the way a platform
// keystore wraps under a per-user OS secret. Two instances are like two different machines.
import { randomBytes, openWithPrefixedNonce, sealWithRandomNonce } from '../../core/crypto/sodium.ts';
import type { KeystoreWrap } from '../../core/vault/index.ts';

export function testKeystore(provider = 'test-keystore'): KeystoreWrap {
  const secret = randomBytes(32);
  return {
    provider,
    wrap: async (key) => sealWithRandomNonce(secret, key),
    unwrap: async (blob) => openWithPrefixedNonce(secret, blob),
  };
}
