import js from '@eslint/js'
import tseslint from 'typescript-eslint'

// Heavy modules cost 100-300 ms each to import. Nothing in src/ may import them at top level
// (type-only imports are fine): they are loaded on first use through src/lib/core/lazy.ts, so that
// --help and fast commands start fast. This covers src/commands/** and every lib module a
// command imports statically.
const HEAVY = ['got', 'node-forge', 'listr2', '@inquirer/prompts', 'jose', 'hpagent', 'proxy-from-env']

export default tseslint.config(
  {ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'oclif.manifest.json']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly',
        setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_'}],
    },
  },
  {
    files: ['bin/**/*.js', 'bin/**/*.cjs', 'scripts/**/*.cjs'],
    languageOptions: {sourceType: 'commonjs', globals: {require: 'readonly', module: 'writable', __dirname: 'readonly', __filename: 'readonly', globalThis: 'readonly'}},
    rules: {'@typescript-eslint/no-require-imports': 'off'},
  },
  {
    // Tests read loosely typed JSON from the CLI's stdout.
    files: ['test/**/*.ts'],
    rules: {'@typescript-eslint/no-explicit-any': 'off'},
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/lib/core/lazy.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: HEAVY.map((name) => ({
          name,
          allowTypeImports: true,
          message: `${name} is heavy: load it with src/lib/core/lazy.ts inside the function that needs it`,
        })),
        patterns: [{group: HEAVY.map((n) => `${n}/*`), allowTypeImports: true, message: 'heavy module: load it lazily'}],
      }],
    },
  },
)
