// The relay's data directory: one relay at a time, and a start that fails leaves nothing behind.
//
// One relay per directory: an exclusive lock on DATA/wardroom-server.lock, held for the relay's life. It is taken
// through SQLite's own locking (fcntl on POSIX, LockFileEx on Windows) by an exclusive transaction on that empty
// file, the same way the client vault locks itself, with the binding the relay already uses for its store. The
// OS drops the lock when the process ends in any way, SIGKILL and power loss included, so no stale lock needs
// clearing by hand, unlike a pid file or a lock directory (proper-lockfile and the like go stale by mtime).
//
// Nothing from a failed start: what the directory held before is remembered, and `undo()` removes whatever this
// start added (the directory itself, and any missing parents, if it did not exist), so a later start is a true
// first start and no admin invite from a failed one can surface.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type DatabaseTypes from '../node_modules/better-sqlite3-multiple-ciphers/index.d.ts';

const Database = createRequire(import.meta.url)('better-sqlite3-multiple-ciphers') as typeof DatabaseTypes;

export const LOCK_FILE = 'wardroom-server.lock';

/** A start-up failure the operator can act on: one line, no stack. */
export class StartError extends Error {
  override readonly name = 'StartError';
}

export interface DataDir {
  /** Releases the lock (the relay closed). */
  release(): void;
  /** Removes what this start added, then releases the lock (the start failed). */
  undo(): void;
}

/** The highest directory on the way to `dir` that does not exist yet (what mkdir -p would create first), or null. */
function firstMissing(dir: string): string | null {
  let missing: string | null = null;
  for (let at = path.resolve(dir); !existsSync(at); at = path.dirname(at)) {
    missing = at;
    if (path.dirname(at) === at) break;
  }
  return missing;
}

function takeLock(lockFile: string): DatabaseTypes.Database {
  const db = new Database(lockFile, { timeout: 0 });
  try {
    // A memory journal: an exclusive transaction would otherwise create a -journal file beside the lock.
    db.pragma('journal_mode = MEMORY');
    db.exec('BEGIN EXCLUSIVE');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Creates the data directory if needed and takes its lock; StartError if it is a file or another relay holds it. */
export function openDataDir(dir: string): DataDir {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new StartError(`--data ${dir} is a file, not a directory`);
  const created = firstMissing(dir);
  const before = created ? null : new Set(readdirSync(dir));
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new StartError(`cannot create the data directory ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const lockFile = path.join(dir, LOCK_FILE);
  const lockHadExisted = existsSync(lockFile);
  let lock: DatabaseTypes.Database;
  try {
    lock = takeLock(lockFile);
  } catch (error) {
    // Remove only what this attempt made: never files of the relay that holds the lock.
    if (created) rmSync(created, { recursive: true, force: true });
    else if (!lockHadExisted) rmSync(lockFile, { force: true });
    if (/^SQLITE_(BUSY|LOCKED)/.test((error as { code?: string }).code ?? '')) throw new StartError(`another relay is already running on ${dir}`);
    throw new StartError(`cannot lock the data directory ${dir}: ${(error as Error).message}`);
  }
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    lock.close();
  };
  return {
    release,
    undo() {
      release();
      if (created) {
        rmSync(created, { recursive: true, force: true });
        return;
      }
      for (const entry of readdirSync(dir)) {
        if (!before!.has(entry)) rmSync(path.join(dir, entry), { recursive: true, force: true });
      }
    },
  };
}
