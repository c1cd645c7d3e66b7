// @ts-check
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const NODE_IO_MODULES = [
  'fs', 'fs/*', 'node:fs', 'node:fs/*',
  'child_process', 'node:child_process',
  'net', 'node:net', 'http', 'node:http', 'https', 'node:https', 'http2', 'node:http2',
  'dgram', 'node:dgram', 'dns', 'node:dns', 'tls', 'node:tls',
  'os', 'node:os', 'process', 'node:process', 'worker_threads', 'node:worker_threads',
  'readline', 'node:readline', 'cluster', 'node:cluster', 'crypto', 'node:crypto',
];

export default defineConfig(
  { ignores: ['node_modules/**', 'cdk.out/**', '.nightshift/**', '.bench/**', 'coverage/**', '.stryker-tmp*/**', 'reports/**', 'console/dist/**', 'console/src/api/schema.d.ts'] },
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      'no-console': 'error',
      eqeqeq: 'error',
    },
  },
  {
    // The domain core: no AWS SDK, no I/O, no ambient time or randomness. Ports are its only way out.
    files: ['functions/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@aws-sdk/*', 'aws-sdk', '@smithy/*', 'aws-lambda', '@middy/*'], message: 'functions/core has no AWS or Lambda imports: declare a port in core/ports and implement it in functions/adapters.' },
            { group: NODE_IO_MODULES, message: 'functions/core does no I/O: take a port as a dependency instead.' },
            { group: ['**/adapters/**', '**/handlers/**', '**/local/**', '**/infra/**'], message: 'Dependencies point inward: core never imports adapters, handlers, local or infra.' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'functions/core reads no environment: configuration arrives as arguments.' },
        { name: 'fetch', message: 'functions/core does no I/O.' },
        { name: 'setTimeout', message: 'functions/core does not wait: time belongs to the workflow.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Use the injected Clock.' },
        { object: 'Math', property: 'random', message: 'Use the injected IdGenerator.' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Use the injected Clock.' },
      ],
    },
  },
  {
    // Handlers are Lambda entry points; they must not reach into the local runtime.
    files: ['functions/**/*.ts'],
    ignores: ['functions/core/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/local/**', '**/infra/**'], message: 'Lambda code never imports the local runtime or the CDK app.' }] },
      ],
    },
  },
  {
    // The console runs in a browser: Node's globals type-check there (the core's types need them) but do not exist.
    files: ['console/src/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'The console runs in a browser: there is no process.' },
        { name: 'Buffer', message: 'The console runs in a browser: use TextEncoder, atob/btoa.' },
        { name: 'require', message: 'The console is an ES module bundle.' },
      ],
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['node:*', '**/adapters/**', '**/handlers/**', '**/local/**', '**/infra/**', '**/http/**'], message: 'The console talks to the API only (src/api/client.ts); it may share pure core rules, nothing else.' }] },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
