// The vault's SQL worker: owns the only connection to the database (one writer) and answers the requests of
// protocol.ts one at a time, in order. Runs in a worker thread so a long query never blocks the caller's thread.
import { statSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { openAttachmentFileSync, readEncryptedRange } from './attachment-file.ts';
import type { Database, PreparedStatement } from './sqlite.ts';
import { openConnection } from './connection.ts';
import { VaultError, toShape } from './errors.ts';
import type { DatabaseShredResult, Operations, Request, Response, Row, RunResult, SqlParams, SqlValue, Statement } from './protocol.ts';
import { applyMigrations } from './schema.ts';

const STATEMENT_CACHE_LIMIT = 256;

let db: Database | null = null;
let databaseFile = '';
const statements = new Map<string, PreparedStatement>();

function connection(): Database {
  if (!db) throw new VaultError('CLOSED', 'the vault is locked');
  return db;
}

function prepared(sql: string): PreparedStatement {
  let statement = statements.get(sql);
  if (statement) {
    statements.delete(sql); // re-insert below: Map order then doubles as least-recently-used order
  } else {
    statement = connection().prepare(sql);
    if (statements.size >= STATEMENT_CACHE_LIMIT) statements.delete(statements.keys().next().value!);
  }
  statements.set(sql, statement);
  return statement;
}

// better-sqlite3 binds blobs only from Buffers; structured clone delivers plain Uint8Arrays.
function toBindable(value: SqlValue): unknown {
  return value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : value;
}

function bind(params: SqlParams | undefined): unknown[] {
  if (params === undefined) return [];
  if (Array.isArray(params)) return params.map(toBindable);
  return [Object.fromEntries(Object.entries(params).map(([name, value]) => [name, toBindable(value as SqlValue)]))];
}

// Copy blobs into exact-size arrays: a Buffer may view a larger pooled ArrayBuffer, which clone would copy whole.
function toRow(raw: unknown): Row {
  const row = raw as Row;
  for (const [column, value] of Object.entries(row)) if (value instanceof Uint8Array) row[column] = new Uint8Array(value);
  return row;
}

function runOne(statement: Statement): RunResult {
  const result = prepared(statement.sql).run(...bind(statement.params));
  return { changes: result.changes, lastInsertRowid: Number(result.lastInsertRowid) };
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function compact(vacuum: 'incremental' | 'full'): DatabaseShredResult {
  const conn = connection();
  const databaseBytesBefore = fileSize(databaseFile);
  const freeBefore = conn.pragma('freelist_count', { simple: true }) as number;
  if (vacuum === 'full') conn.exec('VACUUM');
  else conn.pragma('incremental_vacuum');
  const freeAfter = conn.pragma('freelist_count', { simple: true }) as number;
  const walBytesTruncated = fileSize(`${databaseFile}-wal`);
  // TRUNCATE: copy every WAL frame into the database file, then cut the WAL to zero bytes, so old page
  // versions (which still hold deleted rows) neither stay in the WAL nor get replayed.
  const [checkpoint] = conn.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
  if (checkpoint?.busy) throw new VaultError('LOCKED_BY_OTHER_PROCESS', 'the WAL checkpoint could not complete (database busy)');
  return { pagesFreed: Math.max(0, freeBefore - freeAfter), walBytesTruncated, databaseBytesBefore, databaseBytesAfter: fileSize(databaseFile) };
}

/** The range read of files.read, in the worker (protocol.ts says why). Its blocking reads keep requests in order. */
async function attachmentRange({ file, id, offset, length }: Operations['attachmentRange']['args']): Promise<Uint8Array> {
  const row = prepared('SELECT file_key AS key, size FROM attachments WHERE id = ?').get(id) as { key: Buffer; size: number } | undefined;
  if (!row) throw new VaultError('NOT_FOUND', 'no such attachment');
  try {
    const bytes = await readEncryptedRange(openAttachmentFileSync(file), row.key, row.size, offset, length);
    // sent by transfer, so it must own its whole buffer: a view into a chunk is copied out
    return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
  } finally {
    row.key.fill(0);
  }
}

type Handlers = { [K in keyof Operations]: (args: Operations[K]['args']) => Operations[K]['result'] | Promise<Operations[K]['result']> };

const handlers: Handlers = {
  open(args) {
    if (db) throw new VaultError('INVALID_ARGUMENT', 'this worker already has a database open');
    const conn = openConnection(args);
    try {
      const migrated = applyMigrations(conn, args.migrations);
      db = conn;
      databaseFile = args.file;
      return { schemaVersion: conn.pragma('user_version', { simple: true }) as number, migrated };
    } catch (error) {
      conn.close();
      throw error;
    } finally {
      args.rawKey?.fill(0);
    }
  },
  all: (args) => prepared(args.sql).all(...bind(args.params)).map(toRow),
  get(args) {
    const row = prepared(args.sql).get(...bind(args.params));
    return row === undefined ? undefined : toRow(row);
  },
  run: runOne,
  transaction: (args) => connection().transaction(() => args.statements.map(runOne)).immediate(),
  compact: (args) => compact(args.vacuum),
  integrityCheck(args) {
    const rows = connection().pragma(args.quick ? 'quick_check' : 'integrity_check') as Record<string, string>[];
    return rows.map((row) => Object.values(row)[0]!).filter((line) => line !== 'ok');
  },
  attachmentRange,
  close() {
    statements.clear();
    db?.close();
    db = null;
    return null;
  },
};

const port = parentPort;
if (!port) throw new Error('core/vault/worker.ts must run in a worker thread');
// Answered strictly in order, the asynchronous handler too: each request waits for the one before it.
let answered: Promise<void> = Promise.resolve();
port.on('message', (request: Request) => {
  answered = answered.then(async () => {
    let response: Response;
    try {
      const handler = handlers[request.op] as (args: unknown) => unknown;
      response = { id: request.id, ok: true, result: await handler(request.args) };
    } catch (error) {
      response = { id: request.id, ok: false, error: toShape(error) };
    }
    port.postMessage(response, response.ok && response.result instanceof Uint8Array ? [response.result.buffer as ArrayBuffer] : []);
  });
});
