// Single-instance lock: one process at a time owns a vault. A second process (or a second open in this one) gets
// LOCKED_BY_OTHER_PROCESS at once, before it derives any key, instead of racing the owner's writes.
//
// The lock is an OS advisory lock on vault.lock, taken through SQLite's own locking layer (fcntl on POSIX,
// LockFileEx on Windows) by an exclusive transaction on that empty file. The OS drops it when the holder exits or
// is killed, so a crash never leaves a stale lock behind, unlike a pid file. The file itself is never written.
//
// Beside it, vault.lock.pid names the holder's process, so a refused open can say who holds the vault. It is
// only a label: written once the lock is held, removed on release, read only when the lock is refused (a file
// left by a killed holder is overwritten by the next one), and never used to decide anything.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Database } from './sqlite.ts';
import { VaultError, classify } from './errors.ts';

const holderFile = (lockFile: string) => `${lockFile}.pid`;

/** The pid the holder wrote, or null (none yet, unreadable, or not a pid). */
function holderPid(lockFile: string): number | null {
  try {
    const text = readFileSync(holderFile(lockFile), 'utf8').slice(0, 32).trim();
    return /^\d{1,10}$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

export interface InstanceLock {
  release(): void;
}

export function acquireInstanceLock(lockFile: string): InstanceLock {
  let db: Database;
  try {
    db = new Database(lockFile, { timeout: 0, fileMustExist: true });
  } catch (error) {
    const mapped = classify(error);
    if (mapped.code === 'IO' || mapped.code === 'NOT_FOUND') throw new VaultError('NOT_FOUND', 'no vault in this directory (lock file missing)');
    throw mapped;
  }
  try {
    // A memory journal: an exclusive transaction would otherwise create a -journal file beside the lock.
    // (journal_mode=OFF is refused by this build and silently stays DELETE.)
    db.pragma('journal_mode = MEMORY');
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    const mapped = classify(error);
    if (mapped.code === 'LOCKED_BY_OTHER_PROCESS') {
      const pid = holderPid(lockFile);
      throw new VaultError('LOCKED_BY_OTHER_PROCESS', `this vault is open in another Wardroom process${pid ? ` (pid ${pid})` : ''}`, { holderPid: pid });
    }
    throw mapped;
  }
  try {
    writeFileSync(holderFile(lockFile), `${process.pid}\n`, { mode: 0o600 });
  } catch {
    // only a label for error messages: the lock holds without it
  }
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      try {
        rmSync(holderFile(lockFile), { force: true });
      } catch {
        // a label left behind is overwritten by the next holder
      }
      db.close();
    },
  };
}
