// Opens and configures the SQLite connection. Runs inside the vault worker (and in tests and benches that need a
// raw connection). Every setting is explained in docs/storage.md.
import { Database } from './sqlite.ts';
import { VaultError, classify } from './errors.ts';

/** 64 MiB page cache. SQLCipher pays its cipher each time a page leaves or re-enters the cache, so a small cache
 * makes encryption expensive: DESIGN.md measured raw inserts at 2.4-3x plaintext with 2 MiB and 1.2-1.3x with
 * 64 MiB. bench/vault.bench.ts re-measures per cache size; docs/storage.md has the figures. */
export const DEFAULT_CACHE_KIB = 64 * 1024;

export interface ConnectionOptions {
  file: string;
  /** 32-byte SQLCipher raw key; null opens a plaintext database (benchmark baseline and tests only). */
  rawKey: Uint8Array | null;
  create: boolean;
  cacheKiB?: number;
}

/**
 * SQLCipher's raw-key literal x'<64 hex>' built straight into a Buffer, so the key never becomes an immutable JS
 * string that could not be wiped. The caller zeroes the buffer after keying.
 */
function rawKeyLiteral(key: Uint8Array): Buffer {
  const hexDigits = '0123456789abcdef';
  const literal = Buffer.alloc(3 + key.length * 2);
  literal[0] = 0x78; // x
  literal[1] = 0x27; // '
  key.forEach((byte, i) => {
    literal[2 + i * 2] = hexDigits.charCodeAt(byte >> 4);
    literal[3 + i * 2] = hexDigits.charCodeAt(byte & 15);
  });
  literal[literal.length - 1] = 0x27;
  return literal;
}

export function openConnection(options: ConnectionOptions): Database {
  if (options.rawKey && options.rawKey.length !== 32) throw new VaultError('INVALID_ARGUMENT', 'database key must be 32 bytes');
  let db: Database;
  try {
    db = new Database(options.file, { fileMustExist: !options.create, timeout: 0 });
  } catch (error) {
    throw classify(error);
  }
  try {
    if (options.rawKey) {
      // SQLCipher 4 format with a raw key: the KDF already ran (Argon2id), so SQLCipher's PBKDF2 is skipped.
      db.pragma(`cipher = 'sqlcipher'`);
      db.pragma('legacy = 4');
      const literal = rawKeyLiteral(options.rawKey);
      try {
        db.key(literal);
      } finally {
        literal.fill(0);
      }
    }
    // The first read decrypts page 1: a damaged or foreign file fails here, before any setting is written.
    const tables = (db.prepare('SELECT count(*) AS n FROM sqlite_schema').get() as { n: number }).n;
    // An existing vault always has tables; an empty one means the file was emptied or replaced. Going on would
    // silently start a fresh, empty vault over the user's history.
    if (!options.create && tables === 0) throw new VaultError('CORRUPT', 'vault database is empty');
    if (options.create) {
      if (tables !== 0) throw new VaultError('ALREADY_EXISTS', 'a database already exists at this path');
      // Must precede the first table: only then can incremental_vacuum hand freed pages back to the file system.
      db.pragma('auto_vacuum = INCREMENTAL');
    }
    applySettings(db, options.cacheKiB ?? DEFAULT_CACHE_KIB);
    return db;
  } catch (error) {
    db.close();
    throw classify(error);
  }
}

function applySettings(db: Database, cacheKiB: number): void {
  db.pragma('journal_mode = WAL');
  // FULL: a transaction the engine saw commit survives power loss too; it acknowledges messages to the server
  // only after commit. Batching keeps the fsync count low.
  db.pragma('synchronous = FULL');
  db.pragma('secure_delete = ON');
  db.pragma('foreign_keys = ON');
  // Sorts and temporary indexes stay in memory instead of spilling to temporary files.
  db.pragma('temp_store = MEMORY');
  db.pragma(`cache_size = ${-Math.trunc(cacheKiB)}`);
}
