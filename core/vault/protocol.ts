// The typed message protocol between the vault's main side (sql-client.ts) and its SQL worker (worker.ts).
import type { VaultErrorShape } from './errors.ts';
import type { Migration } from './schema.ts';

export type SqlValue = null | number | bigint | string | Uint8Array;
export type SqlParams = readonly SqlValue[] | Readonly<Record<string, SqlValue>>;
export type Row = Record<string, SqlValue>;

export interface Statement {
  sql: string;
  params?: SqlParams;
}

export interface RunResult {
  changes: number;
  lastInsertRowid: number;
}

/** What the database half of the shredder did (shredder.ts adds the file half). */
export interface DatabaseShredResult {
  pagesFreed: number;
  walBytesTruncated: number;
  databaseBytesBefore: number;
  databaseBytesAfter: number;
}

export interface OpenRequest {
  file: string;
  rawKey: Uint8Array | null;
  create: boolean;
  cacheKiB?: number;
  /** the whole schema, in order (default: the vault's own tables only) */
  migrations?: readonly Migration[];
}

/** Every operation, its arguments and its result type, in one map so both sides are checked against it. */
export interface Operations {
  open: { args: OpenRequest; result: { schemaVersion: number; migrated: number[] } };
  all: { args: Statement; result: Row[] };
  get: { args: Statement; result: Row | undefined };
  run: { args: Statement; result: RunResult };
  /** All statements in one IMMEDIATE transaction: every one commits or none does. */
  transaction: { args: { statements: readonly Statement[] }; result: RunResult[] };
  /** Removes freed pages, checkpoints and truncates the WAL. */
  compact: { args: { vacuum: 'incremental' | 'full' }; result: DatabaseShredResult };
  integrityCheck: { args: { quick: boolean }; result: string[] };
  /**
   * `length` bytes of attachment `id` (its file is `file`) from `offset`, read and decrypted here: one round trip
   * for the key's lookup, the file's reads and the decryption, and the file's key never leaves the worker.
   */
  attachmentRange: { args: { file: string; id: string; offset: number; length: number }; result: Uint8Array };
  close: { args: Record<string, never>; result: null };
}

export type OperationName = keyof Operations;

export type Request = { [K in OperationName]: { id: number; op: K; args: Operations[K]['args'] } }[OperationName];

export type Response = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: VaultErrorShape };
