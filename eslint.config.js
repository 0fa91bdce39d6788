// Lint for Wardroom. Its main job is the process boundaries (DESIGN.md section 1 and 4):
// - core/ is pure Node: it never imports electron, React or the DOM, nor the shell, UI or server.
// - renderer/ is a browser: no node:* or Node builtins, and from core/ only the types in core/api.
// - server/ never loads client-only code (the vault, the engine) nor the shell or UI.
// - electron/ is a thin shell: it talks to core only through core/api.
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const shellAndUi = ['electron', 'electron/*', 'react', 'react-dom', 'react-dom/*', 'zustand', 'zustand/*'];
const layer = (name) => [`**/${name}/**`, `../${name}/*`, `../../${name}/*`];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', 'renderer/dist/**', 'test/fixtures/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: shellAndUi.filter((p) => !p.includes('*')).map((name) => ({ name, message: 'core/ is pure Node: no electron or UI libraries.' })),
        patterns: [
          { group: ['electron/*', 'react-dom/*'], message: 'core/ is pure Node: no electron or UI libraries.' },
          { group: [...layer('renderer'), ...layer('electron'), ...layer('server')], message: 'core/ must not import the UI, the shell or the server.' },
        ],
      }],
      'no-restricted-globals': ['error',
        ...['window', 'document', 'navigator', 'localStorage', 'sessionStorage', 'HTMLElement'].map((name) => ({ name, message: 'core/ never touches the DOM.' }))],
    },
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: nodeBuiltins.map((name) => ({ name, message: 'renderer/ runs in a browser: no Node modules. Go through window.wardroom.' })),
        patterns: [
          { group: ['node:*'], message: 'renderer/ runs in a browser: no Node modules. Go through window.wardroom.' },
          { group: ['**/core/*', '!**/core/api', '!**/core/api/*'], message: 'renderer/ reaches core only through window.wardroom; it may import types from core/api.' },
          { group: ['**/core/api', '**/core/api/*'], allowTypeImports: true, message: 'renderer/ may import only types from core/api (use `import type`).' },
          { group: [...layer('server'), ...layer('electron')], message: 'renderer/ must not import the server or the shell.' },
        ],
      }],
    },
  },
  {
    files: ['server/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: shellAndUi.filter((p) => !p.includes('*')).map((name) => ({ name, message: 'server/ is a headless service.' })),
        patterns: [
          { group: [...layer('renderer'), ...layer('electron'), '**/core/vault/*', '**/core/engine/*'], message: 'server/ never loads client code (vault, engine), the UI or the shell.' },
        ],
      }],
    },
  },
  {
    files: ['electron/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [
          { group: [...layer('renderer'), ...layer('server')], message: 'electron/ is a thin shell: no UI or server imports.' },
          { group: ['**/core/*', '!**/core/api', '!**/core/api/*'], message: 'electron/ talks to core only through core/api.' },
        ],
      }],
    },
  },
);
