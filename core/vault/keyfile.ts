// The key file (vault.keys) beside the database: the only place the database key exists at rest, always wrapped.
//
//   database key (32 random bytes, SQLCipher raw key)
//     <- wrapped by XChaCha20-Poly1305 under Argon2id(passphrase, salt, params)      [passphrase slot, always]
//     <- wrapped by the platform keystore (Electron safeStorage, later)              [keystore slot, optional]
//
// Changing the passphrase rewrites only the passphrase slot; the database is never re-encrypted. The layout is
// specified byte by byte in docs/storage.md so an auditor can unwrap the key with independent tools.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import {
  AEAD_KEY_BYTES,
  ARGON2ID_SALT_BYTES,
  argon2id,
  blake2b,
  constantTimeEqual,
  CryptoError,
  fromBase64Url,
  memzero,
  openWithPrefixedNonce,
  randomBytes,
  sealWithRandomNonce,
  toBase64Url,
  toHex,
  utf8,
  type Argon2idParams,
} from '../crypto/sodium.ts';
import { VaultError, classify } from './errors.ts';

export const KEY_FILE_FORMAT = 'wardroom-vault-keys';
export const KEY_FILE_VERSION = 1;
/** A key file is a few hundred bytes; anything much larger is not ours and is refused before parsing. */
export const KEY_FILE_MAX_BYTES = 16 * 1024;
export const DATABASE_KEY_BYTES = AEAD_KEY_BYTES;

/**
 * Bounds on stored Argon2id parameters. The upper bounds stop a tampered key file from making unlock allocate
 * gigabytes or spin for minutes; the lower bounds stop a file from silently advertising a trivially cheap KDF.
 */
export const KDF_LIMITS = { minOps: 1, maxOps: 16, minMemBytes: 8 * 1024 * 1024, maxMemBytes: 1024 * 1024 * 1024 } as const;

/** A platform keystore (Electron safeStorage, macOS Keychain, DPAPI...) that can wrap the database key. */
export interface KeystoreWrap {
  /** Stable name written into the key file so the right keystore is asked at unlock. */
  readonly provider: string;
  wrap(key: Uint8Array): Promise<Uint8Array>;
  /** Throws if the keystore cannot unwrap (other user, other machine, keystore reset). */
  unwrap(blob: Uint8Array): Promise<Uint8Array>;
}

const base64url = z.string().max(4096).regex(/^[A-Za-z0-9_-]*$/);

const keyFileSchema = z.strictObject({
  format: z.literal(KEY_FILE_FORMAT),
  version: z.number().int(),
  kdf: z.strictObject({
    algorithm: z.literal('argon2id13'),
    opsLimit: z.number().int().min(KDF_LIMITS.minOps).max(KDF_LIMITS.maxOps),
    memLimitBytes: z.number().int().min(KDF_LIMITS.minMemBytes).max(KDF_LIMITS.maxMemBytes),
    salt: base64url,
  }),
  passphraseWrap: base64url,
  keyCheck: base64url,
  keystoreWrap: z.strictObject({ provider: z.string().min(1).max(100), blob: base64url }).nullable(),
});

export type KeyFile = z.infer<typeof keyFileSchema>;

const WRAPPED_KEY_BYTES = 24 + DATABASE_KEY_BYTES + 16; // nonce || ciphertext || Poly1305 tag
const KEY_CHECK_BYTES = 16;

/** Parses and validates key file bytes. Throws VaultError CORRUPT or UNSUPPORTED_VERSION, never anything else. */
export function parseKeyFile(bytes: Uint8Array): KeyFile {
  if (bytes.length > KEY_FILE_MAX_BYTES) throw new VaultError('CORRUPT', 'key file is too large to be a vault key file');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new VaultError('CORRUPT', 'key file is not valid JSON');
  }
  if (typeof json === 'object' && json !== null && 'version' in json && typeof json.version === 'number' && json.version > KEY_FILE_VERSION) {
    throw new VaultError('UNSUPPORTED_VERSION', `key file version ${json.version} is newer than this app understands (${KEY_FILE_VERSION})`);
  }
  const parsed = keyFileSchema.safeParse(json);
  if (!parsed.success || parsed.data.version !== KEY_FILE_VERSION) throw new VaultError('CORRUPT', 'key file does not have the expected fields');
  const file = parsed.data;
  if (decodedLength(file.kdf.salt) !== ARGON2ID_SALT_BYTES || decodedLength(file.passphraseWrap) !== WRAPPED_KEY_BYTES || decodedLength(file.keyCheck) !== KEY_CHECK_BYTES) {
    throw new VaultError('CORRUPT', 'key file fields have the wrong lengths');
  }
  return file;
}

function decodedLength(text: string): number {
  try {
    return fromBase64Url(text).length;
  } catch {
    return -1;
  }
}

/**
 * Associated data of the passphrase wrap: binds the format, version and every KDF input, so a key file whose
 * parameters or salt were edited fails to unwrap instead of being accepted.
 */
export function passphraseWrapAd(kdf: KeyFile['kdf']): Uint8Array {
  return utf8(`${KEY_FILE_FORMAT}/${KEY_FILE_VERSION}/${kdf.algorithm}/${kdf.opsLimit}/${kdf.memLimitBytes}/${kdf.salt}`);
}

/** BLAKE2b-128 keyed by the database key over a fixed label: lets a keystore-unwrapped key be verified before use. */
export function keyCheckValue(databaseKey: Uint8Array): Uint8Array {
  return blake2b(utf8('wardroom vault key check v1'), KEY_CHECK_BYTES, databaseKey);
}

function deriveWrapKey(passphrase: string, kdf: KeyFile['kdf']): Uint8Array {
  const params: Argon2idParams = { opsLimit: kdf.opsLimit, memLimitBytes: kdf.memLimitBytes };
  return argon2id(passphrase, fromBase64Url(kdf.salt), params, AEAD_KEY_BYTES);
}

function passphraseSlot(databaseKey: Uint8Array, passphrase: string, params: Argon2idParams): Pick<KeyFile, 'kdf' | 'passphraseWrap'> {
  const kdf: KeyFile['kdf'] = { algorithm: 'argon2id13', opsLimit: params.opsLimit, memLimitBytes: params.memLimitBytes, salt: toBase64Url(randomBytes(ARGON2ID_SALT_BYTES)) };
  const wrapKey = deriveWrapKey(passphrase, kdf);
  try {
    return { kdf, passphraseWrap: toBase64Url(sealWithRandomNonce(wrapKey, databaseKey, passphraseWrapAd(kdf))) };
  } finally {
    memzero(wrapKey);
  }
}

export function checkKdfParams(params: Argon2idParams): void {
  const { minOps, maxOps, minMemBytes, maxMemBytes } = KDF_LIMITS;
  if (!Number.isInteger(params.opsLimit) || params.opsLimit < minOps || params.opsLimit > maxOps || !Number.isInteger(params.memLimitBytes) || params.memLimitBytes < minMemBytes || params.memLimitBytes > maxMemBytes) {
    throw new VaultError('INVALID_ARGUMENT', `Argon2id parameters outside the accepted range (ops ${minOps}-${maxOps}, memory ${minMemBytes}-${maxMemBytes} bytes)`);
  }
}

export function checkPassphrase(passphrase: unknown): asserts passphrase is string {
  if (typeof passphrase !== 'string' || passphrase.length === 0) throw new VaultError('INVALID_ARGUMENT', 'passphrase must be a non-empty string');
  if (passphrase.length > 1024) throw new VaultError('INVALID_ARGUMENT', 'passphrase is longer than 1024 characters');
}

export async function buildKeyFile(databaseKey: Uint8Array, passphrase: string, params: Argon2idParams, keystore?: KeystoreWrap): Promise<KeyFile> {
  return {
    format: KEY_FILE_FORMAT,
    version: KEY_FILE_VERSION,
    ...passphraseSlot(databaseKey, passphrase, params),
    keyCheck: toBase64Url(keyCheckValue(databaseKey)),
    keystoreWrap: keystore ? { provider: keystore.provider, blob: toBase64Url(await keystore.wrap(databaseKey)) } : null,
  };
}

/** The same key file with a new passphrase slot (fresh salt and nonce); the database key is unchanged. */
export function rewrapPassphrase(file: KeyFile, databaseKey: Uint8Array, newPassphrase: string, params: Argon2idParams): KeyFile {
  return { ...file, ...passphraseSlot(databaseKey, newPassphrase, params) };
}

/** Recovers the database key with the passphrase. Throws VaultError WRONG_PASSPHRASE if it does not authenticate. */
export function unwrapWithPassphrase(file: KeyFile, passphrase: string): Uint8Array {
  const wrapKey = deriveWrapKey(passphrase, file.kdf);
  try {
    return openWithPrefixedNonce(wrapKey, fromBase64Url(file.passphraseWrap), passphraseWrapAd(file.kdf));
  } catch (error) {
    if (error instanceof CryptoError) throw new VaultError('WRONG_PASSPHRASE', 'the passphrase does not unlock this vault');
    throw error;
  } finally {
    memzero(wrapKey);
  }
}

export async function unwrapWithKeystore(file: KeyFile, keystore: KeystoreWrap): Promise<Uint8Array> {
  if (!file.keystoreWrap) throw new VaultError('KEYSTORE_UNAVAILABLE', 'this vault has no keystore slot; unlock with the passphrase');
  if (file.keystoreWrap.provider !== keystore.provider) throw new VaultError('KEYSTORE_UNAVAILABLE', `this vault's keystore slot belongs to ${file.keystoreWrap.provider}`);
  let key: Uint8Array;
  try {
    key = await keystore.unwrap(fromBase64Url(file.keystoreWrap.blob));
  } catch (error) {
    throw new VaultError('KEYSTORE_UNAVAILABLE', 'the platform keystore could not unwrap the vault key', { cause: error });
  }
  if (key.length !== DATABASE_KEY_BYTES || !constantTimeEqual(keyCheckValue(key), fromBase64Url(file.keyCheck))) {
    memzero(key);
    throw new VaultError('KEYSTORE_UNAVAILABLE', 'the platform keystore returned a key that does not belong to this vault');
  }
  return key;
}

export function readKeyFile(file: string): KeyFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    const mapped = classify(error);
    if (mapped.code === 'NOT_FOUND') throw new VaultError('NOT_FOUND', 'no vault key file in this directory');
    throw mapped;
  }
  return parseKeyFile(bytes);
}

/**
 * Replaces the key file atomically: write a temporary file, fsync it, rename it over the old one, fsync the
 * directory. A crash at any point leaves either the old or the new key file, never none and never half of one.
 */
export function writeKeyFileAtomic(file: string, contents: KeyFile): void {
  const temporary = `${file}.${toHex(randomBytes(6))}.tmp`;
  try {
    const fd = openSync(temporary, 'wx', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(contents, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
    fsyncDirectory(path.dirname(file));
  } catch (error) {
    rmSync(temporary, { force: true });
    throw classify(error);
  }
}

/** Makes a rename durable. Windows cannot open directories for fsync; there NTFS journals the rename itself. */
export function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EACCES') throw error;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
