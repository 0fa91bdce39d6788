// The vault: one directory holding an SQLCipher database, its key file and encrypted attachment files.
//
//   <dir>/vault.keys      wrapped database key (keyfile.ts)          <dir>/vault.lock   single-instance lock
//   <dir>/vault.db(-wal)  SQLCipher 4 database, raw 256-bit key      <dir>/attachments/<id>  secretstream files
//
// A vault exists exactly when its key file exists: the key file is written last at creation, so a crash during
// createVault leaves a directory that createVault can simply start over in.
import { existsSync, mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ARGON2ID_MODERATE, memzero, randomBytes, toHex, type Argon2idParams } from '../crypto/sodium.ts';
import { openAttachmentFile, readEncryptedFile, type ReadableFile, shredFile, writeEncryptedFile, type AttachmentSource } from './attachment-file.ts';
import { VaultError, classify } from './errors.ts';
import { acquireInstanceLock, type InstanceLock } from './instance-lock.ts';
import {
  buildKeyFile,
  checkKdfParams,
  checkPassphrase,
  DATABASE_KEY_BYTES,
  readKeyFile,
  rewrapPassphrase,
  unwrapWithKeystore,
  unwrapWithPassphrase,
  writeKeyFileAtomic,
  type KeyFile,
  type KeystoreWrap,
} from './keyfile.ts';
import * as messages from './messages.ts';
import type { Row, RunResult, SqlParams, Statement } from './protocol.ts';
import type { Migration } from './schema.ts';
import { ATTACHMENT_ID_PATTERN, shred, type ShredOptions, type ShredReport } from './shredder.ts';
import { SqlWorker, type SqlExecutor } from './sql-client.ts';

export interface VaultPaths {
  dir: string;
  database: string;
  keyFile: string;
  lockFile: string;
  attachments: string;
}

export function vaultPaths(dir: string): VaultPaths {
  const root = path.resolve(dir);
  return {
    dir: root,
    database: path.join(root, 'vault.db'),
    keyFile: path.join(root, 'vault.keys'),
    lockFile: path.join(root, 'vault.lock'),
    attachments: path.join(root, 'attachments'),
  };
}

export function vaultExists(dir: string): boolean {
  return existsSync(vaultPaths(dir).keyFile);
}

/** Vaults this process has open, by real path: key-file maintenance on them needs no second instance lock. */
const openHere = new Map<string, Vault>();
/** The worker answers one request at a time, so a range read holds the database for its length: a viewer's worth. */
const MAX_RANGE_BYTES = 8 * 1024 * 1024;

function canonical(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return path.resolve(dir);
  }
}

/** Runs `fn` holding the vault's instance lock, unless this process already holds it through an open Vault. */
async function withInstanceLock<T>(paths: VaultPaths, fn: () => Promise<T> | T): Promise<T> {
  if (openHere.has(canonical(paths.dir))) return fn();
  const lock = acquireInstanceLock(paths.lockFile);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

export interface CreateVaultOptions {
  dir: string;
  passphrase: string;
  /** Argon2id cost; default libsodium MODERATE (about 0.8 s and 256 MiB). Tests pass INTERACTIVE. */
  kdf?: Argon2idParams;
  keystore?: KeystoreWrap;
  /** page cache size; default DEFAULT_CACHE_KIB (connection.ts) */
  cacheKiB?: number;
  /** the whole schema in order; default the vault's own tables (the engine passes its profile schema) */
  migrations?: readonly Migration[];
}

export interface OpenVaultOptions {
  dir: string;
  /** Unlock with the passphrase; without it the keystore slot is used. */
  passphrase?: string;
  keystore?: KeystoreWrap;
  cacheKiB?: number;
  migrations?: readonly Migration[];
}

function removeDatabaseFiles(paths: VaultPaths): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${paths.database}${suffix}`, { force: true });
}

/**
 * Deletes a vault that no process has open, for good: the key file is overwritten and removed first (without it
 * the database is ciphertext no passphrase opens: crypto-shredding), then the directory with everything in it.
 */
export async function destroyVault(dir: string): Promise<void> {
  const paths = vaultPaths(dir);
  if (!vaultExists(paths.dir)) throw new VaultError('NOT_FOUND', 'no vault in this directory');
  if (openHere.has(canonical(paths.dir))) throw new VaultError('LOCKED_BY_OTHER_PROCESS', 'this vault is open: lock it first');
  const lock = acquireInstanceLock(paths.lockFile);
  try {
    await shredFile(paths.keyFile);
  } catch (error) {
    throw classify(error);
  } finally {
    lock.release();
  }
  rmSync(paths.dir, { recursive: true, force: true });
}

/** Creates a new vault in `dir` (created if missing). Fails with ALREADY_EXISTS if a vault is there. */
export async function createVault(options: CreateVaultOptions): Promise<Vault> {
  checkPassphrase(options.passphrase);
  const kdf = options.kdf ?? ARGON2ID_MODERATE;
  checkKdfParams(kdf);
  const paths = vaultPaths(options.dir);
  if (vaultExists(paths.dir)) throw new VaultError('ALREADY_EXISTS', 'a vault already exists in this directory');
  try {
    mkdirSync(paths.attachments, { recursive: true, mode: 0o700 });
    writeFileSync(paths.lockFile, '', { flag: 'a', mode: 0o600 });
  } catch (error) {
    throw classify(error);
  }
  const lock = acquireInstanceLock(paths.lockFile);
  const databaseKey = randomBytes(DATABASE_KEY_BYTES);
  let sql: SqlWorker | undefined;
  try {
    if (vaultExists(paths.dir)) throw new VaultError('ALREADY_EXISTS', 'a vault already exists in this directory');
    // Without a key file, any database here is the remains of a create that crashed; its key was never stored.
    removeDatabaseFiles(paths);
    const keyFile = await buildKeyFile(databaseKey, options.passphrase, kdf, options.keystore);
    const started = await SqlWorker.start({ file: paths.database, rawKey: transferable(databaseKey), create: true, cacheKiB: options.cacheKiB, migrations: options.migrations });
    sql = started.worker;
    writeKeyFileAtomic(paths.keyFile, keyFile);
    return Vault.register(paths, sql, lock, started.schemaVersion);
  } catch (error) {
    await sql?.close();
    if (!vaultExists(paths.dir)) removeDatabaseFiles(paths);
    lock.release();
    throw error;
  } finally {
    memzero(databaseKey);
  }
}

/** A fresh copy whose ArrayBuffer can be transferred (moved, not copied) to the worker, which wipes it. */
function transferable(key: Uint8Array): Uint8Array {
  return new Uint8Array(key);
}

async function unwrap(file: KeyFile, passphrase: string | undefined, keystore: KeystoreWrap | undefined): Promise<Uint8Array> {
  if (passphrase !== undefined) {
    checkPassphrase(passphrase);
    return unwrapWithPassphrase(file, passphrase);
  }
  if (keystore) return unwrapWithKeystore(file, keystore);
  throw new VaultError('INVALID_ARGUMENT', 'openVault needs a passphrase or a keystore');
}

/**
 * Unlocks an existing vault. Errors: NOT_FOUND, LOCKED_BY_OTHER_PROCESS (checked before any key derivation),
 * WRONG_PASSPHRASE (no file is touched), KEYSTORE_UNAVAILABLE, CORRUPT, UNSUPPORTED_VERSION.
 */
export async function openVault(options: OpenVaultOptions): Promise<Vault> {
  const paths = vaultPaths(options.dir);
  if (!vaultExists(paths.dir)) throw new VaultError('NOT_FOUND', 'no vault in this directory');
  const lock = acquireInstanceLock(paths.lockFile);
  try {
    const file = readKeyFile(paths.keyFile);
    const databaseKey = await unwrap(file, options.passphrase, options.keystore);
    let started: Awaited<ReturnType<typeof SqlWorker.start>>;
    try {
      if (!existsSync(paths.database)) throw new VaultError('CORRUPT', 'the vault database file is missing');
      started = await SqlWorker.start({ file: paths.database, rawKey: transferable(databaseKey), create: false, cacheKiB: options.cacheKiB, migrations: options.migrations });
    } finally {
      memzero(databaseKey);
    }
    return Vault.register(paths, started.worker, lock, started.schemaVersion);
  } catch (error) {
    lock.release();
    throw error;
  }
}

/** Re-wraps the database key under a new passphrase (fresh salt). The database itself is not rewritten. */
export async function changePassphrase(dir: string, oldPassphrase: string, newPassphrase: string, kdf: Argon2idParams = ARGON2ID_MODERATE): Promise<void> {
  checkPassphrase(oldPassphrase);
  checkPassphrase(newPassphrase);
  checkKdfParams(kdf);
  const paths = vaultPaths(dir);
  if (!vaultExists(paths.dir)) throw new VaultError('NOT_FOUND', 'no vault in this directory');
  await withInstanceLock(paths, () => {
    const file = readKeyFile(paths.keyFile);
    const databaseKey = unwrapWithPassphrase(file, oldPassphrase);
    try {
      writeKeyFileAtomic(paths.keyFile, rewrapPassphrase(file, databaseKey, newPassphrase, kdf));
    } finally {
      memzero(databaseKey);
    }
  });
}

/** Adds (or replaces) the platform-keystore slot, or removes it with `null`. Needs the passphrase. */
export async function setKeystore(dir: string, passphrase: string, keystore: KeystoreWrap | null): Promise<void> {
  checkPassphrase(passphrase);
  const paths = vaultPaths(dir);
  if (!vaultExists(paths.dir)) throw new VaultError('NOT_FOUND', 'no vault in this directory');
  await withInstanceLock(paths, async () => {
    const file = readKeyFile(paths.keyFile);
    const databaseKey = unwrapWithPassphrase(file, passphrase);
    try {
      const keystoreWrap = keystore ? (await buildKeyFile(databaseKey, passphrase, file.kdf, keystore)).keystoreWrap : null;
      writeKeyFileAtomic(paths.keyFile, { ...file, keystoreWrap });
    } finally {
      memzero(databaseKey);
    }
  });
}

/**
 * The provider named by the vault's keystore slot, or null without one: lets a front end choose how to unlock
 * (keystore or passphrase) before asking anything. Reads only the key file's public fields.
 */
export function keystoreProvider(dir: string): string | null {
  const paths = vaultPaths(dir);
  if (!vaultExists(paths.dir)) throw new VaultError('NOT_FOUND', 'no vault in this directory');
  return readKeyFile(paths.keyFile).keystoreWrap?.provider ?? null;
}

export interface AttachmentInfo {
  id: string;
  size: number;
  messageRowId: number | null;
  createdAt: number;
}

function checkAttachmentId(id: string): void {
  if (typeof id !== 'string' || !ATTACHMENT_ID_PATTERN.test(id)) throw new VaultError('INVALID_ARGUMENT', 'not an attachment id');
}

/** An unlocked vault. Every method rejects with VaultError CLOSED after lock(). */
export class Vault implements SqlExecutor {
  readonly paths: VaultPaths;
  readonly schemaVersion: number;
  readonly #sql: SqlWorker;
  readonly #instanceLock: InstanceLock;
  /** attachment ids being written: the shredder must not mistake their files for orphans */
  readonly #writing = new Set<string>();
  #locked = false;

  private constructor(paths: VaultPaths, sql: SqlWorker, instanceLock: InstanceLock, schemaVersion: number) {
    this.paths = paths;
    this.#sql = sql;
    this.#instanceLock = instanceLock;
    this.schemaVersion = schemaVersion;
  }

  /** @internal used by createVault/openVault */
  static register(paths: VaultPaths, sql: SqlWorker, instanceLock: InstanceLock, schemaVersion: number): Vault {
    const vault = new Vault(paths, sql, instanceLock, schemaVersion);
    openHere.set(canonical(paths.dir), vault);
    return vault;
  }

  get isLocked(): boolean {
    return this.#locked;
  }

  // ------------------------------------------------------------ raw SQL (one writer, in the worker)

  all<T extends Row = Row>(sql: string, params?: SqlParams): Promise<T[]> {
    return this.#sql.all<T>(sql, params);
  }

  get<T extends Row = Row>(sql: string, params?: SqlParams): Promise<T | undefined> {
    return this.#sql.get<T>(sql, params);
  }

  run(sql: string, params?: SqlParams): Promise<RunResult> {
    return this.#sql.run(sql, params);
  }

  transaction(statements: readonly Statement[]): Promise<RunResult[]> {
    return this.#sql.transaction(statements);
  }

  // ------------------------------------------------------------ messages

  insertMessages(batch: readonly messages.MessageInput[]): Promise<number[]> {
    return messages.insertMessages(this.#sql, batch);
  }

  historyPage(conversationId: string, options?: Parameters<typeof messages.historyPage>[2]): Promise<messages.HistoryPage> {
    return messages.historyPage(this.#sql, conversationId, options);
  }

  searchMessages(text: string, options?: Parameters<typeof messages.searchMessages>[2]): Promise<messages.StoredMessage[]> {
    return messages.searchMessages(this.#sql, text, options);
  }

  getMessage(messageId: string): Promise<messages.StoredMessage | undefined> {
    return messages.getMessage(this.#sql, messageId);
  }

  deleteMessages(messageIds: readonly string[]): Promise<number> {
    return messages.deleteMessages(this.#sql, messageIds);
  }

  // ------------------------------------------------------------ attachments

  /**
   * Encrypts `source` into a new attachment file under a fresh random key and records the key. With
   * `messageRowId`, deleting that message deletes the attachment too. Returns the attachment id.
   */
  async putAttachment(source: AttachmentSource, options: { messageRowId?: number } = {}): Promise<string> {
    const id = toHex(randomBytes(16));
    const key = randomBytes(32);
    const file = path.join(this.paths.attachments, id);
    this.#writing.add(id);
    try {
      const size = await writeEncryptedFile(file, key, source);
      try {
        await this.#sql.run('INSERT INTO attachments (id, message, file_key, size, created_at) VALUES (?, ?, ?, ?, ?)', [id, options.messageRowId ?? null, key, size, Date.now()]);
      } catch (error) {
        await shredFile(file);
        throw error;
      }
      return id;
    } finally {
      memzero(key);
      this.#writing.delete(id);
    }
  }

  async attachmentInfo(id: string): Promise<AttachmentInfo | undefined> {
    checkAttachmentId(id);
    return this.#sql.get<AttachmentInfo & Row>('SELECT id, size, message AS messageRowId, created_at AS createdAt FROM attachments WHERE id = ?', [id]);
  }

  /**
   * The attachment's key and size, with its file opened beside the lookup rather than after it: files.read reads a
   * viewer's file one range per call, and each round trip to the worker or the I/O threads is a share of its cost.
   * The handle goes to a read function, which closes it; the caller wipes the key.
   */
  async #openAttachment(id: string): Promise<{ handle: ReadableFile; key: Uint8Array; size: number }> {
    checkAttachmentId(id);
    const opening = openAttachmentFile(path.join(this.paths.attachments, id));
    opening.catch(() => {}); // its failure is heard where it is awaited below, or not at all when there is no such attachment
    const abandon = () => void opening.then((handle) => handle.close()).catch(() => {});
    let row: { key: Uint8Array; size: number } | undefined;
    try {
      row = await this.#sql.get<{ key: Uint8Array; size: number }>('SELECT file_key AS key, size FROM attachments WHERE id = ?', [id]);
    } catch (error) {
      abandon();
      throw error;
    }
    if (!row) {
      abandon();
      throw new VaultError('NOT_FOUND', 'no such attachment');
    }
    try {
      return { handle: await opening, key: row.key, size: row.size };
    } catch (error) {
      memzero(row.key);
      throw error;
    }
  }

  /** Decrypts an attachment chunk by chunk (1 MiB of plaintext each; 64 KiB for files of format 1). */
  async *attachmentStream(id: string): AsyncGenerator<Uint8Array> {
    const { handle, key, size } = await this.#openAttachment(id);
    try {
      yield* readEncryptedFile(handle, key, size);
    } finally {
      memzero(key);
    }
  }

  /**
   * `length` bytes of an attachment from `offset` (fewer at its end), decrypting only the chunks that hold them; in
   * the vault's worker, where the file's key stays (files.read's one MiB at a time: a viewer, not a stream).
   */
  async readAttachmentRange(id: string, offset: number, length: number): Promise<Uint8Array> {
    checkAttachmentId(id);
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) throw new VaultError('INVALID_ARGUMENT', 'an attachment range is a whole offset and length from 0');
    if (length > MAX_RANGE_BYTES) throw new VaultError('INVALID_ARGUMENT', `an attachment range is at most ${MAX_RANGE_BYTES / (1024 * 1024)} MiB; stream a longer read`);
    return this.#sql.call('attachmentRange', { file: path.join(this.paths.attachments, id), id, offset, length });
  }

  async readAttachment(id: string): Promise<Uint8Array> {
    const { handle, key, size } = await this.#openAttachment(id);
    // decrypted in place where the format allows (2 and 3); chunks of format 1 are copied in
    const out = new Uint8Array(size);
    let offset = 0;
    try {
      for await (const chunk of readEncryptedFile(handle, key, size, out)) {
        if (chunk.buffer !== out.buffer) out.set(chunk, offset);
        offset += chunk.length;
      }
    } finally {
      memzero(key);
    }
    return out;
  }

  /** Destroys the attachment's key, then overwrites and unlinks its file. Returns false if there was none. */
  async deleteAttachment(id: string): Promise<boolean> {
    checkAttachmentId(id);
    const { changes } = await this.#sql.run('DELETE FROM attachments WHERE id = ?', [id]);
    if (changes === 0) return false;
    const file = path.join(this.paths.attachments, id);
    await shredFile(file);
    await this.#sql.run('DELETE FROM attachment_trash WHERE id = ?', [id]);
    return true;
  }

  // ------------------------------------------------------------ maintenance

  /** Runs the shredder (shredder.ts): expired rows, queued attachment files, freed pages, the WAL. */
  shred(options?: ShredOptions): Promise<ShredReport> {
    return shred(this.#sql, this.paths.attachments, this.#writing, options);
  }

  /** SQLite's integrity_check (or quick_check); an empty list means healthy. Reads every page: not for each unlock. */
  integrityCheck(quick = false): Promise<string[]> {
    return this.#sql.call('integrityCheck', { quick });
  }

  /**
   * Closes the database (after requests already queued), ends the worker thread and releases the instance lock.
   * SQLCipher wipes its copy of the key when the connection closes; this side holds no key after unlock.
   */
  async lock(): Promise<void> {
    if (this.#locked) return;
    this.#locked = true;
    try {
      await this.#sql.close();
    } finally {
      this.#instanceLock.release();
      openHere.delete(canonical(this.paths.dir));
    }
  }
}
