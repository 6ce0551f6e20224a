// ESLint flat config. Type-aware rules for all TypeScript, plus the Temporal workflow rules:
// workflow code (and the pure pricing engine it imports) runs in Temporal's deterministic
// sandbox, so Node built-ins are forbidden there and activities may be imported as types only.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);

/**
 * Import layers (../shared/docs/architecture.md, "Suggested layout"), enforced: each folder may
 * import only the folders below it. A layer names the top-level folders it must not import; an
 * import is matched by the folder it reaches (`../../workflows/contract` reaches `workflows`).
 * Tests and test support may import anything.
 */
const everyFolder = ['lib', 'pricing', 'db', 'services', 'activities', 'workflows', 'api', 'workers', 'simulators', 'scripts', 'bench', 'loadtest', 'web', 'test'];
const above = (...allowed) => everyFolder.filter((f) => !allowed.includes(f));
const testFiles = ['**/*.test.ts', '**/test-support.ts', '**/test-support/**'];

/** A pattern matching any relative import that reaches one of `folders` (at any depth of `../`). */
const reaching = (folders) => ({
  regex: `^(\\.\\./)+(${folders.join('|')})(/|$)`,
});

const layers = [
  {
    name: 'the shared vocabulary (workflow-safe leaf)',
    files: ['lib/vocabulary.ts'],
    forbidden: above(),
    builtins: true,
  },
  { name: 'lib', files: ['lib/**/*.ts'], ignores: ['lib/vocabulary.ts'], forbidden: above('lib') },
  {
    name: 'the pricing engine (pure; runs in the workflow sandbox)',
    files: ['pricing/**/*.ts'],
    ignores: ['pricing/cli.ts', 'pricing/command.ts'],
    forbidden: above('lib'),
    builtins: true,
    extra: [{ regex: '^(\\.\\./)+lib/(?!vocabulary$)', message: 'Only lib/vocabulary is workflow-safe.' }],
  },
  { name: 'db', files: ['db/**/*.ts'], ignores: ['db/migrate-cli.ts'], forbidden: above('lib') },
  {
    name: 'services',
    files: ['services/**/*.ts'],
    forbidden: above('lib', 'pricing', 'db', 'services'),
    extra: [
      // A service reaches another service through its index (its public face) or the shared modules.
      { regex: '^\\.\\./(?!shared/|\\.\\./)[^/]+/.+', message: "Import another service through its index ('../inventory'), not its internals; shared code lives in services/shared." },
    ],
  },
  {
    name: 'the services composition root',
    files: ['services/*.ts'],
    forbidden: above('lib', 'pricing', 'db', 'services'),
    extra: [{ regex: '^\\./(?!shared/)[^/]+/.+', message: "Import a service through its index ('./inventory'), not its internals." }],
  },
  { name: 'activities', files: ['activities/**/*.ts'], forbidden: above('lib', 'pricing', 'db', 'services') },
  {
    name: 'workflows (deterministic sandbox)',
    files: ['workflows/**/*.ts'],
    forbidden: above('lib', 'pricing', 'workflows', 'activities'),
    builtins: true,
    extra: [
      { regex: '^(\\.\\./)+lib/(?!vocabulary$)', message: 'Only lib/vocabulary is workflow-safe.' },
      // Activities are imported as types only (proxyActivities), never run in the sandbox.
      { regex: '^(\\.\\./)+activities(/|$)', allowTypeImports: true, message: 'Workflows import activities as types only (proxyActivities).' },
    ],
  },
  { name: 'api', files: ['api/**/*.ts'], forbidden: above('lib', 'pricing', 'db', 'services', 'workflows', 'api') },
  { name: 'workers', files: ['workers/**/*.ts'], forbidden: ['scripts', 'bench', 'loadtest', 'web', 'test'] },
  { name: 'simulators', files: ['simulators/**/*.ts'], forbidden: above('lib', 'simulators') },
];

function layerRules() {
  return layers.map((layer) => {
    const own = layer.files[0].split('/')[0];
    const forbidden = layer.forbidden.filter((f) => f !== own && !(own === 'workflows' && f === 'activities'));
    return {
      files: layer.files,
      ignores: [...testFiles, ...(layer.ignores ?? [])],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            paths: layer.builtins ? nodeBuiltins.map((name) => ({ name, message: `${layer.name}: runs in Temporal's deterministic sandbox, no Node built-ins.` })) : [],
            patterns: [
              ...(forbidden.length > 0 ? [{ ...reaching(forbidden), message: `${layer.name} may not import ${forbidden.join(', ')} (import layers, eslint.config.mjs).` }] : []),
              ...(layer.extra ?? []),
            ],
          },
        ],
      },
    };
  });
}

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', '.venv/**', 'dist/**', 'bench/results/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
    },
  },
  ...layerRules(),
  {
    // The storefront runs in the browser (web/src, its own tsconfig with the DOM library).
    files: ['web/src/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['**/*.test.ts'],
    rules: {
      // mocha's describe/it return values are intentionally ignored.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
