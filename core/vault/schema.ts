// Versioned schema. The version lives in SQLite's user_version header field; each migration and its version bump
// commit in one transaction, so a crash mid-migration leaves the previous version intact. One file per change
// (migrations/NNN-*.ts); the engine keeps the migrations of its own tables beside the queries that use them and
// hands the whole list to openVault/createVault. An existing migration is never edited once released.
import type { Database } from './sqlite.ts';
import { VaultError } from './errors.ts';
import { m001 } from './migrations/001-kv-messages-fts.ts';
import { m002 } from './migrations/002-attachments.ts';
import { m003 } from './migrations/003-edits-expiry.ts';

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/** The vault's own tables (key-value store, messages and their index, attachments); the engine adds its own. */
export const MIGRATIONS: readonly Migration[] = [m001, m002, m003];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the database to `target` (default: latest), one transaction per migration. Returns the versions applied.
 * A database newer than this code is refused rather than touched.
 */
export function applyMigrations(db: Database, migrations: readonly Migration[] = MIGRATIONS, target = migrations[migrations.length - 1]!.version): number[] {
  const current = schemaVersion(db);
  const latest = migrations[migrations.length - 1]!.version;
  if (current > latest) throw new VaultError('UNSUPPORTED_VERSION', `vault schema version ${current} is newer than this app understands (${latest})`);
  const applied: number[] = [];
  for (const migration of migrations) {
    if (migration.version <= current || migration.version > target) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
    applied.push(migration.version);
  }
  return applied;
}
