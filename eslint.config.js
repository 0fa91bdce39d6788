// Lint for Wardroom. Its main job is the boundaries (DESIGN.md sections 1 and 4, docs/architecture.md):
// - the layer table below: which of our folders each folder may import, and which may not use Node's modules;
// - core/ and server/ never load electron or UI libraries, core/ never touches the DOM;
// - renderer/ takes only types from core/api (and the values of core/api/attention.ts, pure and type-only itself).
import tseslint from 'typescript-eslint';
import { isBuiltin } from 'node:module';
import path from 'node:path';

// Every arrow of docs/architecture.md's layer table, and nothing else (test/unit/boundaries.test.ts checks that
// the two agree): a folder may import itself, npm packages, Node's modules (unless `node: false`) and the folders
// in `may`. Anything of ours not listed is refused, so a new folder starts with no arrows. Type-only imports and
// import() count too: a type is a dependency on its owner, and a lazy import is still an import.
const CORE_BELOW_ENGINE = ['core/crypto', 'core/protocol', 'core/vault', 'core/relay', 'core/net', 'core/api'];
export const LAYERS = {
  'core/crypto': { may: [] }, // libsodium and the coded-error base: the floor everything stands on
  'core/protocol': { may: ['core/crypto'], node: false },
  'core/vault': { may: ['core/crypto'] },
  'core/relay': { may: ['core/crypto'] }, // the wire format shared with the server
  'core/net': { may: ['core/crypto'] }, // transport beside relay: pinned TLS, backoff
  'core/api': { may: ['core/crypto'], node: false }, // the contract: loads anywhere a UI does
  'core/engine': { may: CORE_BELOW_ENGINE },
  'core/host': { may: [...CORE_BELOW_ENGINE, 'core/engine'] }, // the host entry: starts engines for a front door
  'core/cli': { may: ['core/api', 'core/host'] },
  'core/shell': { may: ['core/api', 'core/host'] }, // the web shell
  'server': { may: ['core/crypto', 'core/relay'] },
  'electron': { may: ['core/api', 'core/host'] },
  'renderer': { may: ['core/api'], node: false }, // and only `import type` from it (below)
};

const ROOT = import.meta.dirname;
/** The table entry that holds this repository path, or undefined (no entry holds another). */
const layerOf = (file) => Object.keys(LAYERS).find((layer) => file.startsWith(`${layer}/`));

const layersRule = {
  meta: {
    type: 'problem',
    schema: [],
    messages: {
      arrow: '{{from}} may not import {{to}} ({{specifier}}); it may import {{may}} (docs/architecture.md, layers).',
      node: '{{from}} may not use Node modules ({{specifier}}): it must load where Node is absent.',
      unlisted: '{{folder}} is not in the layer table in eslint.config.js: give it its arrows there and in docs/architecture.md.',
    },
  },
  create(context) {
    const file = path.relative(ROOT, context.filename).split(path.sep).join('/');
    const from = layerOf(file);
    if (from === undefined) {
      const folder = /^core\/[^/]+\//.exec(file)?.[0].slice(0, -1);
      if (folder !== undefined) return { Program: (node) => context.report({ node, messageId: 'unlisted', data: { folder } }) };
      return {}; // test/, bench/, scripts/: no layer
    }
    const { may, node: nodeAllowed = true } = LAYERS[from];
    const check = (node, source) => {
      const specifier = source?.value;
      if (typeof specifier !== 'string') return; // a computed import(): nothing to check statically
      if (isBuiltin(specifier)) {
        if (!nodeAllowed) context.report({ node, messageId: 'node', data: { from, specifier } });
        return;
      }
      if (!specifier.startsWith('.')) return; // an npm package
      const target = path.posix.join(path.posix.dirname(file), specifier);
      if (target.startsWith('node_modules/')) return; // a package's types by path
      const to = layerOf(target) ?? target;
      if (to === from || may.includes(to)) return;
      context.report({ node, messageId: 'arrow', data: { from, to, specifier, may: may.length > 0 ? may.join(', ') : 'nothing of ours' } });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source),
      TSImportType: (node) => check(node, node.source),
    };
  },
};

const shellAndUi = ['electron', 'react', 'react-dom', 'zustand'];
const shellAndUiPatterns = ['electron/*', 'react-dom/*', 'zustand/*'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', 'renderer/dist/**', 'test/fixtures/**'] },
  ...tseslint.configs.recommended,
  {
    plugins: { wardroom: { rules: { layers: layersRule } } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
      'wardroom/layers': 'error',
    },
  },
  {
    files: ['core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: shellAndUi.map((name) => ({ name, message: 'core/ is pure Node: no electron or UI libraries.' })),
        patterns: [{ group: shellAndUiPatterns, message: 'core/ is pure Node: no electron or UI libraries.' }],
      }],
      'no-restricted-globals': ['error',
        ...['window', 'document', 'navigator', 'localStorage', 'sessionStorage', 'HTMLElement'].map((name) => ({ name, message: 'core/ never touches the DOM.' }))],
    },
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [
          // attention.ts is pure and imports only types: the one rule both shells apply to notifications
          { regex: '(^|/)core/api(/(?!attention\\.ts$)[^/]*)?$', allowTypeImports: true, message: 'renderer/ may import only types from core/api (use `import type`); it reaches core through window.wardroom.' },
        ],
      }],
    },
  },
  {
    files: ['server/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: shellAndUi.map((name) => ({ name, message: 'server/ is a headless service.' })),
        patterns: [{ group: shellAndUiPatterns, message: 'server/ is a headless service.' }],
      }],
    },
  },
);
