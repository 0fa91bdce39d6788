// One typed error for everything the vault can refuse, so callers branch on `code`, never on message text.
// Messages never contain key material, passphrases or row contents.
import { CodedError } from '../crypto/coded-error.ts';

export type VaultErrorCode =
  | 'WRONG_PASSPHRASE'
  | 'LOCKED_BY_OTHER_PROCESS'
  | 'CORRUPT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'DISK_FULL'
  | 'UNSUPPORTED_VERSION'
  | 'KEYSTORE_UNAVAILABLE'
  | 'CONSTRAINT'
  | 'INVALID_ARGUMENT'
  | 'CLOSED'
  | 'IO'
  | 'SQL';

export class VaultError extends CodedError<VaultErrorCode> {
  override readonly name = 'VaultError';
  /** LOCKED_BY_OTHER_PROCESS: the process that holds the vault, when it could be told. */
  readonly holderPid: number | null;

  constructor(code: VaultErrorCode, message: string, options?: { cause?: unknown; holderPid?: number | null }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.holderPid = options?.holderPid ?? null;
  }
}

/** The serialisable form that crosses the worker boundary (structured clone drops class identity). */
export interface VaultErrorShape {
  code: VaultErrorCode;
  message: string;
}

export function toShape(error: unknown): VaultErrorShape {
  const mapped = classify(error);
  return { code: mapped.code, message: mapped.message };
}

export function fromShape(shape: VaultErrorShape): VaultError {
  return new VaultError(shape.code, shape.message);
}

/**
 * Maps SQLite and file-system errors to vault codes. SQLCipher reports a wrong key, a foreign file and a page
 * whose HMAC fails all as NOTADB or CORRUPT; by the time SQL runs the key has already authenticated against the
 * key file, so here those always mean a damaged database.
 */
export function classify(error: unknown): VaultError {
  if (error instanceof VaultError) return error;
  const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : '';
  const message = error instanceof Error ? error.message : String(error);
  if (code.startsWith('SQLITE_NOTADB') || code.startsWith('SQLITE_CORRUPT')) return new VaultError('CORRUPT', `vault database is damaged: ${message}`, { cause: error });
  if (code.startsWith('SQLITE_IOERR_SHORT_READ')) return new VaultError('CORRUPT', `vault database is truncated: ${message}`, { cause: error });
  if (code.startsWith('SQLITE_FULL') || code === 'ENOSPC') return new VaultError('DISK_FULL', `no space left for the vault: ${message}`, { cause: error });
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return new VaultError('LOCKED_BY_OTHER_PROCESS', `vault is in use: ${message}`, { cause: error });
  if (code.startsWith('SQLITE_CONSTRAINT')) return new VaultError('CONSTRAINT', message, { cause: error });
  if (code === 'ENOENT') return new VaultError('NOT_FOUND', message, { cause: error });
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN') || /^E[A-Z]+$/.test(code)) return new VaultError('IO', message, { cause: error });
  return new VaultError('SQL', message, { cause: error });
}
