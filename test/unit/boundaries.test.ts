// The process boundaries and the layers inside core are a lint rule; this proves the rule fires on each wrong-way
// import and stays quiet on the allowed ones, so a broken lint config cannot pass silently, and that the layer
// table in docs/architecture.md says what the rule enforces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ESLint } from 'eslint';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.resolve(import.meta.dirname, '../..');
// eslint.config.js is plain JavaScript (no types): the layer table is read as data.
const { LAYERS } = await import(pathToFileURL(path.join(root, 'eslint.config.js')).href) as { LAYERS: Record<string, { may: string[]; node?: boolean }> };
const eslint = new ESLint({ cwd: root });
const BOUNDARY_RULES = new Set(['@typescript-eslint/no-restricted-imports', 'no-restricted-globals', 'wardroom/layers']);

async function boundaryErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: file });
  return result!.messages.filter((m) => m.ruleId !== null && BOUNDARY_RULES.has(m.ruleId)).map((m) => m.message);
}

const use = (specifier: string) => `import { x } from '${specifier}';\nexport const a = x;`;
const useType = (specifier: string) => `import type { X } from '${specifier}';\nexport type A = X;`;

const cases: Array<[file: string, code: string, allowed: boolean]> = [
  // process boundaries
  ['core/vault/x.ts', "import { app } from 'electron';\nexport const a = app;", false],
  ['core/vault/x.ts', "import { createRoot } from 'react-dom/client';\nexport const a = createRoot;", false],
  ['core/vault/x.ts', 'export const a = document.title;', false],
  ['core/vault/x.ts', use('../../renderer/app.tsx'), false],
  ['core/vault/x.ts', "import { readFile } from 'node:fs/promises';\nexport const a = readFile;", true],
  ['renderer/src/x.tsx', "import { readFile } from 'node:fs';\nexport const a = readFile;", false],
  ['renderer/src/x.tsx', "import fs from 'fs';\nexport const a = fs;", false],
  ['renderer/src/x.tsx', "import { openVault } from '../../core/vault/vault.ts';\nexport const a = openVault;", false],
  ['renderer/src/x.tsx', "import { commands } from '../../core/api/contract.ts';\nexport const a = commands;", false],
  ['renderer/src/x.tsx', "import type { Commands } from '../../core/api/contract.ts';\nexport type A = Commands;", true],
  ['renderer/src/x.tsx', "import { notificationFor } from '../../core/api/attention.ts';\nexport const a = notificationFor;", true],
  ['server/x.ts', "import { openVault } from '../core/vault/vault.ts';\nexport const a = openVault;", false],
  ['server/x.ts', "import { app } from 'electron';\nexport const a = app;", false],
  ['electron/main.ts', "import { openVault } from '../core/vault/vault.ts';\nexport const a = openVault;", false],
  ['electron/main.ts', "import { commands } from '../core/api/contract.ts';\nexport const a = commands;", true],
  // core/crypto: nothing of ours
  ['core/crypto/x.ts', use('../protocol/codec.ts'), false],
  ['core/crypto/x.ts', use('./sodium.ts'), true],
  ['core/crypto/x.ts', use('sodium-native'), true],
  // core/protocol: only crypto, and no Node
  ['core/protocol/x.ts', useType('../vault/index.ts'), false],
  ['core/protocol/x.ts', 'export * from "../relay/frames.ts";', false],
  ['core/protocol/x.ts', use('node:crypto'), false],
  ['core/protocol/x.ts', use('buffer'), false],
  ['core/protocol/x.ts', use('../crypto/sodium.ts'), true],
  // core/vault: only crypto
  ['core/vault/x.ts', use('../protocol/identity.ts'), false],
  ['core/vault/x.ts', use('../crypto/sodium.ts'), true],
  ['core/vault/x.ts', "import type B from '../../node_modules/better-sqlite3-multiple-ciphers/index.d.ts';\nexport type A = B;", true],
  // core/relay: only crypto
  ['core/relay/x.ts', use('../engine/relay-http.ts'), false],
  ['core/relay/x.ts', use('../crypto/coded-error.ts'), true],
  // core/net: a transport beside relay, only crypto
  ['core/net/x.ts', use('../relay/frames.ts'), false],
  ['core/net/x.ts', use('../crypto/coded-error.ts'), true],
  ['core/net/x.ts', use('node:tls'), true],
  // core/api: only crypto, and no Node
  ['core/api/x.ts', useType('../engine/errors.ts'), false],
  ['core/api/x.ts', use('node:path'), false],
  ['core/api/x.ts', use('../crypto/coded-error.ts'), true],
  // core/engine: all of core below it, never a front door
  ['core/engine/x.ts', useType('../cli/main.ts'), false],
  ['core/engine/x.ts', use('../host/index.ts'), false],
  ['core/engine/x.ts', use('../vault/index.ts'), true],
  ['core/engine/x.ts', use('../net/backoff.ts'), true],
  ['core/engine/x.ts', use('../api/dispatch.ts'), true],
  // core/host: the engine's entry for front doors
  ['core/host/x.ts', use('../engine/host.ts'), true],
  ['core/host/x.ts', use('../cli/main.ts'), false],
  // core/cli and core/shell: only core/api and the host entry, static, lazy or as a type
  ['core/cli/x.ts', use('../engine/host.ts'), false],
  ['core/cli/x.ts', "export const a = () => import('../engine/host.ts');", false],
  ['core/cli/x.ts', "export type A = import('../engine/engine.ts').Engine;", false],
  ['core/cli/x.ts', use('../vault/index.ts'), false],
  ['core/cli/x.ts', "export const a = () => import('../host/index.ts');", true],
  ['core/cli/x.ts', use('../api/contract.ts'), true],
  ['core/shell/x.ts', use('../protocol/ids.ts'), false],
  ['core/shell/x.ts', use('../host/index.ts'), true],
  // electron/: the same front-door arrows
  ['electron/main.ts', use('../core/engine/host.ts'), false],
  ['electron/main.ts', use('../core/host/index.ts'), true],
  // server/: only relay and crypto of core, from any depth
  ['server/x.ts', use('../core/protocol/identity.ts'), false],
  ['server/x.ts', use('../core/net/backoff.ts'), false],
  ['server/routes/x.ts', use('../../core/api/contract.ts'), false],
  ['server/routes/x.ts', use('../../core/relay/frames.ts'), true],
  ['server/x.ts', use('../core/crypto/sodium.ts'), true],
  // a folder of core the table does not know is refused until it gets its arrows
  ['core/newthing/x.ts', 'export const a = 1;', false],
];

for (const [file, code, allowed] of cases) {
  test(`boundary: ${file} ${allowed ? 'may' : 'may not'}: ${code.split('\n')[0]}`, async () => {
    const errors = await boundaryErrors(file, code);
    if (allowed) assert.deepEqual(errors, []);
    else assert.ok(errors.length > 0, 'expected a boundary error');
  });
}

test('the layer table in docs/architecture.md is the one the lint rule enforces', () => {
  const doc = readFileSync(path.join(root, 'docs/architecture.md'), 'utf8');
  const table = doc.slice(doc.indexOf('| from | may import'), doc.indexOf('\n\n', doc.indexOf('| from | may import')));
  const documented: Record<string, { may: string[]; node: boolean }> = {};
  for (const line of table.split('\n').slice(2)) {
    const [from, may, node] = line.split('|').slice(1, -1).map((cell) => cell.trim());
    documented[from!.replace(/`/g, '')] = {
      may: (may!.match(/`[^`\s]+`/g) ?? []).map((name) => name.replace(/`/g, '')).sort(),
      node: node === 'yes',
    };
  }
  const enforced = Object.fromEntries(Object.entries(LAYERS)
    .map(([from, rule]) => [from, { may: [...rule.may].sort(), node: rule.node ?? true }]));
  assert.deepEqual(documented, enforced);
});
