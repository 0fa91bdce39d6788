// Runs an ES module given as source in a fresh node process, for tests about how a process ends: its exit code
// is the point (13 is Node's "unsettled top-level await": the event loop emptied while something was awaited).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** The file: URL of a module in this repository (path from the repository root), for the child to import. */
export const repoModule = (relative: string): string => pathToFileURL(path.join(import.meta.dirname, '..', '..', relative)).href;

export function runModule(source: string, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // A file, not --eval: worker threads inherit the parent's exec flags, and --input-type breaks them.
  const dir = mkdtempSync(path.join(tmpdir(), 'wardroom-child-'));
  const file = path.join(dir, 'child.mjs');
  writeFileSync(file, source);
  return new Promise((resolve) => {
    execFile(process.execPath, [file], { timeout: timeoutMs }, (error, stdout, stderr) => {
      rmSync(dir, { recursive: true, force: true });
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}
