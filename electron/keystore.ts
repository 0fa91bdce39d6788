// The OS keystore, through Electron's safeStorage (Keychain on macOS, DPAPI on Windows, the Secret Service or
// KWallet on Linux), as the main process offers it to the engine process: safeStorage exists only in main, so the
// engine asks over the control channel to wrap or unwrap a vault key, and never holds the OS secret itself.
import { z } from 'zod';
import { ApiError } from '../core/api/contract.ts';
import type { KeystoreStatus } from './keystore-plan.ts';

/** The part of Electron's safeStorage used here (its asynchronous API; the synchronous one is deprecated). */
export interface SafeStorageLike {
  isAsyncEncryptionAvailable(): Promise<boolean>;
  encryptStringAsync(plainText: string): Promise<Buffer>;
  decryptStringAsync(encrypted: Buffer): Promise<{ result: string; shouldReEncrypt: boolean }>;
  getSelectedStorageBackend?(): string;
}

export interface MainKeystore {
  status(): Promise<KeystoreStatus>;
  wrap(key: Uint8Array): Promise<Uint8Array>;
  unwrap(blob: Uint8Array): Promise<Uint8Array>;
}

const KEY_BYTES = 32;
const BLOB_MAX_BYTES = 3072; // the key file keeps at most 4,096 base64url characters of it

/**
 * On Linux without a keyring safeStorage falls back to `basic_text`, a key compiled into Chromium: that protects
 * nothing, so it counts as no keystore. The provider names the platform and backend: a key wrapped by KWallet is
 * not offered to the Secret Service.
 */
export function safeStorageKeystore(safeStorage: SafeStorageLike, platform: NodeJS.Platform): MainKeystore {
  const status = async (): Promise<KeystoreStatus> => {
    const backend = platform === 'linux' ? safeStorage.getSelectedStorageBackend?.() ?? 'unknown' : undefined;
    if (backend === 'basic_text') return { available: false, reason: 'no keyring is running, and Electron\'s fallback uses a key known to everyone' };
    if (backend === 'unknown') return { available: false, reason: 'the keyring could not be identified' };
    if (!(await safeStorage.isAsyncEncryptionAvailable())) return { available: false, reason: 'the operating system refused access to it' };
    return { available: true, provider: `electron-safestorage/${platform}${backend ? `/${backend}` : ''}` };
  };
  return {
    status,
    async wrap(key) {
      if (key.length !== KEY_BYTES) throw new ApiError('BAD_REQUEST', 'keystore.wrap takes a 32-byte key');
      // safeStorage encrypts strings: the key travels as base64url text (the string cannot be wiped; see the report)
      return new Uint8Array(await safeStorage.encryptStringAsync(Buffer.from(key).toString('base64url')));
    },
    async unwrap(blob) {
      if (blob.length === 0 || blob.length > BLOB_MAX_BYTES) throw new ApiError('VAULT_KEYSTORE_UNAVAILABLE', 'the keystore blob has an impossible length');
      // shouldReEncrypt (the OS rotated its key) still decrypts; the next passphrase unlock re-wraps anyway when it must
      const { result } = await safeStorage.decryptStringAsync(Buffer.from(blob));
      const key = Buffer.from(result, 'base64url');
      if (key.length !== KEY_BYTES || key.toString('base64url') !== result) throw new ApiError('VAULT_KEYSTORE_UNAVAILABLE', 'the keystore returned something that is not a vault key');
      return new Uint8Array(key);
    },
  };
}

/** The keystore's status as main hands it to the engine process (on its command line). */
export const KeystoreStatusSchema = z.union([
  z.object({ available: z.literal(true), provider: z.string().min(1).max(100) }).strict(),
  z.object({ available: z.literal(false), reason: z.string().max(300) }).strict(),
]);

const B64 = z.string().regex(/^[A-Za-z0-9_-]*$/);
export const KeystoreRpc = {
  'keystore.wrap': { request: z.object({ key: B64.length(43) }).strict(), response: z.object({ blob: B64.min(1).max(4096) }).strict() },
  'keystore.unwrap': { request: z.object({ blob: B64.min(1).max(4096) }).strict(), response: z.object({ key: B64.length(43) }).strict() },
} as const;

/** Main's answers to the engine process's keystore calls (the control channel's handler). */
export function keystoreHandlers(keystore: MainKeystore): Record<keyof typeof KeystoreRpc, (params: unknown) => Promise<unknown>> {
  const parse = <T>(schema: z.ZodType<T>, params: unknown, method: string): T => {
    const parsed = schema.safeParse(params);
    if (!parsed.success) throw new ApiError('BAD_REQUEST', `${method}: malformed request`);
    return parsed.data;
  };
  return {
    'keystore.wrap': async (params) => {
      const { key } = parse(KeystoreRpc['keystore.wrap'].request, params, 'keystore.wrap');
      return { blob: Buffer.from(await keystore.wrap(Buffer.from(key, 'base64url'))).toString('base64url') };
    },
    'keystore.unwrap': async (params) => {
      const { blob } = parse(KeystoreRpc['keystore.unwrap'].request, params, 'keystore.unwrap');
      try {
        return { key: Buffer.from(await keystore.unwrap(Buffer.from(blob, 'base64url'))).toString('base64url') };
      } catch (error) {
        if (error instanceof ApiError) throw error;
        throw new ApiError('VAULT_KEYSTORE_UNAVAILABLE', 'the system keystore could not unwrap the key');
      }
    },
  };
}
