// Files for a test to send: written into a temporary directory of the test's own, by name.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function scratchFiles(prefix: string): { dir: string; fileOf(name: string, bytes: Uint8Array): string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return {
    dir,
    fileOf(name, bytes) {
      const file = path.join(dir, name);
      writeFileSync(file, bytes);
      return file;
    },
  };
}
