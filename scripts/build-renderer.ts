// Builds the renderer bundle (renderer/dist) with Vite, and knows whether the bundle there is stale: a hash of
// everything the build reads (renderer/, vite.config.ts, the lockfile's versions) is kept beside it.
// `npm run build:renderer` builds it; `npm start` and the end-to-end tests build it only when it is missing or stale.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'vite';

export const ROOT = path.resolve(import.meta.dirname, '..');
export const RENDERER_DIST = path.join(ROOT, 'renderer', 'dist');
const HASH_FILE = path.join(RENDERER_DIST, '.source-hash');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'dist' || entry.name === 'node_modules' ? [] : filesUnder(full);
    return [full];
  });
}

/** A hash of every input of the build, so a changed file (or dependency) means a new build. */
export function rendererSourceHash(): string {
  const hash = createHash('sha256');
  const inputs = [...filesUnder(path.join(ROOT, 'renderer')), path.join(ROOT, 'vite.config.ts'), path.join(ROOT, 'package-lock.json')].sort();
  for (const file of inputs) {
    hash.update(path.relative(ROOT, file)).update('\0').update(existsSync(file) ? readFileSync(file) : '').update('\0');
  }
  return hash.digest('hex');
}

export async function buildRenderer(): Promise<void> {
  const hash = rendererSourceHash();
  await build({ configFile: path.join(ROOT, 'vite.config.ts'), logLevel: 'warn' });
  writeFileSync(HASH_FILE, `${hash}\n`);
}

/** Builds the bundle unless the one there was built from exactly these sources. */
export async function ensureRendererBuilt(): Promise<'fresh' | 'built'> {
  const built = existsSync(HASH_FILE) && existsSync(path.join(RENDERER_DIST, 'index.html')) ? readFileSync(HASH_FILE, 'utf8').trim() : null;
  if (built === rendererSourceHash()) return 'fresh';
  await buildRenderer();
  return 'built';
}

if (import.meta.main) {
  await buildRenderer();
  console.log(`renderer built into ${path.relative(process.cwd(), RENDERER_DIST) || '.'}`);
}
