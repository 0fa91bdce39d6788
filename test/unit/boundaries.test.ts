// The process boundaries are a lint rule; this proves the rule fires on each wrong-way import
// and stays quiet on the allowed ones, so a broken lint config cannot pass silently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';
import path from 'node:path';

const eslint = new ESLint({ cwd: path.resolve(import.meta.dirname, '../..') });

async function boundaryErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: file });
  return result!.messages
    .filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports' || m.ruleId === 'no-restricted-globals')
    .map((m) => m.message);
}

const cases: Array<[file: string, code: string, allowed: boolean]> = [
  ['core/vault/x.ts', "import { app } from 'electron';\nexport const a = app;", false],
  ['core/vault/x.ts', "import { createRoot } from 'react-dom/client';\nexport const a = createRoot;", false],
  ['core/vault/x.ts', 'export const a = document.title;', false],
  ['core/vault/x.ts', "import { x } from '../../renderer/app.tsx';\nexport const a = x;", false],
  ['core/vault/x.ts', "import { readFile } from 'node:fs/promises';\nexport const a = readFile;", true],
  ['renderer/src/x.tsx', "import { readFile } from 'node:fs';\nexport const a = readFile;", false],
  ['renderer/src/x.tsx', "import fs from 'fs';\nexport const a = fs;", false],
  ['renderer/src/x.tsx', "import { openVault } from '../../core/vault/vault.ts';\nexport const a = openVault;", false],
  ['renderer/src/x.tsx', "import { commands } from '../../core/api/contract.ts';\nexport const a = commands;", false],
  ['renderer/src/x.tsx', "import type { Commands } from '../../core/api/contract.ts';\nexport type A = Commands;", true],
  ['server/x.ts', "import { openVault } from '../core/vault/vault.ts';\nexport const a = openVault;", false],
  ['electron/main.ts', "import { openVault } from '../core/vault/vault.ts';\nexport const a = openVault;", false],
  ['electron/main.ts', "import { commands } from '../core/api/contract.ts';\nexport const a = commands;", true],
];

for (const [file, code, allowed] of cases) {
  test(`boundary: ${file} ${allowed ? 'may' : 'may not'}: ${code.split('\n')[0]}`, async () => {
    const errors = await boundaryErrors(file, code);
    if (allowed) assert.deepEqual(errors, []);
    else assert.ok(errors.length > 0, 'expected a boundary error');
  });
}
