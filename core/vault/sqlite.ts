// The SQLite binding, loaded in one place. better-sqlite3-multiple-ciphers ships its types at the package root
// but its package.json "exports" map does not list them, so TypeScript's nodenext resolution cannot see them;
// this module imports the declarations by path and gives the rest of the vault a typed constructor.
import { createRequire } from 'node:module';
import type BetterSqlite3 from '../../node_modules/better-sqlite3-multiple-ciphers/index.d.ts';

const require = createRequire(import.meta.url);

export const Database = require('better-sqlite3-multiple-ciphers') as typeof BetterSqlite3;
export type Database = BetterSqlite3.Database;
export type PreparedStatement = BetterSqlite3.Statement;
