// Runs Doyensec's electronegativity (the Electron security scanner) in this process, offline: its only network
// uses are fetching translations (answered here with "none", so it keeps its bundled English) and Electron's
// release feed (the one check that needs it is excluded by the caller). Nothing else of it is changed.
import { readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';

export interface Finding {
  id: string;
  severity: { name: string };
  confidence: { name: string };
  file: string;
  location: { line: number; column: number };
  sample?: string;
  description: string;
}

const root = path.resolve(import.meta.dirname, '../..');
const require = createRequire(path.join(root, 'package.json'));
const scannerDir = path.dirname(require.resolve('@doyensec/electronegativity/package.json'));

function keepOffline(): void {
  const got = createRequire(path.join(scannerDir, 'package.json')).resolve('got');
  const none = async () => ({ statusCode: 404, body: '' });
  const stub = Object.assign(none, { head: none });
  const cached = new Module(got);
  Object.assign(cached, { filename: got, loaded: true, exports: stub });
  (require.cache as Record<string, unknown>)[got] = cached;
}

/** The Electron version the app pins (package.json), so the scanner judges defaults by the right release. */
export const ELECTRON_VERSION = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies.electron!.replace(/^[^\d]*/, '');

export async function scan(input: string, excludeChecks: string[]): Promise<{ issues: Finding[]; errors: { file: string; message: string }[] }> {
  keepOffline();
  const run = require(scannerDir) as (options: object) => Promise<{ issues: Finding[]; errors: { file: string; message: string }[] }>;
  return run({ input, electronVersionOverride: ELECTRON_VERSION, isRelative: true, excludeFromScan: excludeChecks });
}
