// Reads a relay database directly, read-only, so tests can assert that a refused request changed nothing.
// The package's "exports" map hides its bundled index.d.ts from nodenext resolution: load it with require and
// take the types by path (the same way core/vault/sqlite.ts does; the server may not import the vault).
import { createRequire } from 'node:module';
import type DatabaseTypes from '../../node_modules/better-sqlite3-multiple-ciphers/index.d.ts';
import { createHash } from 'node:crypto';
import path from 'node:path';

const Database = createRequire(import.meta.url)('better-sqlite3-multiple-ciphers') as typeof DatabaseTypes;

/** A hash of every row of every table: equal fingerprints mean the stored state is identical. */
export function dbFingerprint(dataDir: string): string {
  const db = new Database(path.join(dataDir, 'wardroom-server.db'), { readonly: true });
  try {
    const hash = createHash('sha256');
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
    for (const table of tables) {
      hash.update(table);
      const rows = (db.prepare(`SELECT * FROM "${table}"`).raw().all() as unknown[][])
        .map((row) => JSON.stringify(row.map((v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))))
        .sort(); // WITHOUT ROWID tables have no natural order to rely on
      for (const row of rows) hash.update(row);
    }
    return hash.digest('hex');
  } finally {
    db.close();
  }
}
