import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The app (functions/, shared/) and the offline host (host/) never import each other: the host
// runs any Functions app, and the app deploys to Azure without the host (see CONTRIBUTING.md).
const hostImports = {
  regex: '(^@rusty-counter/host(/|$))|(^(\\.\\./)+host(/|$))',
  message: 'The app does not import the offline host: it deploys to Azure without it.',
};
const appImports = {
  regex: '^(\\.\\./)+(functions|shared|bench|tests)(/|$)',
  message: 'The host does not import the app or its tests: it runs any Functions app.',
};

export default tseslint.config(
  { ignores: ['**/dist/', '**/node_modules/', 'bench/results/', 'local_dir/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['functions/**', 'shared/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [hostImports] }] },
  },
  {
    files: ['host/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [appImports] }] },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        __dirname: 'readonly',
        console: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
