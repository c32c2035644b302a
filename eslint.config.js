import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((name) => `node:${name}`)];

export default tseslint.config(
  { ignores: ['node_modules/**', '.ulasan/**', 'dist/**', 'client/bin.js', '**/.scratch/**', '*.tmp.*', 'h7-*'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Use the seeded Rng from data/random.ts.' },
      ],
    },
  },
  {
    // zod comes from data/zod.ts (its CommonJS build, loaded once): an ESM copy beside it would not share classes.
    ignores: ['data/zod.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [{ name: 'zod', allowTypeImports: true, message: 'Import z from data/zod.ts.' }] },
      ],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, and only types from activities.
    files: ['workflows/**/*.ts'],
    ignores: ['workflows/**/*.test.ts', 'workflows/testing/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflow code cannot use Node built-ins.' })),
          patterns: [
            {
              group: ['**/activities', '**/activities/**'],
              allowTypeImports: true,
              message: 'Workflows may import only types from activities/.',
            },
            { group: ['**/data/**', '**/worker/**', '**/client/**'], message: 'Workflows import only pure plan code.' },
          ],
        },
      ],
    },
  },
);
