import js from '@eslint/js';
import unicorn from 'eslint-plugin-unicorn';
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

// Conventions of CONTRIBUTING.md that no plugin rule covers.
const privateFields = {
  selector: 'PrivateIdentifier',
  message: 'Mark private state `private` (see CONTRIBUTING.md), not with #.',
};
const defaultExports = {
  selector: 'ExportDefaultDeclaration',
  message: 'Use named exports: a name then greps the same everywhere.',
};
const errnoCasts = {
  selector: 'MemberExpression[property.name="code"] > TSAsExpression.object',
  message: 'Read an errno code with errnoOf(err) (shared/errno.ts, host/src/utils/errno.ts).',
};

export default tseslint.config(
  { ignores: ['**/dist/', '**/node_modules/', 'bench/results/', 'local_dir/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { unicorn },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // The conventions of CONTRIBUTING.md, as far as a rule can check them.
      'unicorn/filename-case': ['error', { case: 'kebabCase' }],
      '@typescript-eslint/naming-convention': [
        'error',
        { selector: 'default', format: ['camelCase'], leadingUnderscore: 'allow' },
        { selector: 'import', format: null },
        { selector: 'typeLike', format: ['PascalCase'] },
        { selector: 'enumMember', format: ['PascalCase'] },
        // UPPER_SNAKE_CASE only for constants; a class may be assigned to one too.
        {
          selector: 'variable',
          modifiers: ['const'],
          format: ['camelCase', 'UPPER_CASE', 'PascalCase'],
        },
        // Destructured names are the keys they come from (e.g. local.settings.json's "CORS").
        { selector: 'variable', modifiers: ['destructured'], format: null },
        // Keys follow what they name: HTTP headers, environment variables, JSON fields.
        { selector: ['objectLiteralProperty', 'typeProperty'], format: null },
      ],
      'no-restricted-syntax': ['error', privateFields, defaultExports],
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
    files: ['functions/**', 'shared/**', 'host/src/**', 'bench/**'],
    rules: {
      'no-restricted-syntax': ['error', privateFields, defaultExports, errnoCasts],
    },
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
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
      // Tool configuration files (eslint.config.mjs) export their config by default.
      'no-restricted-syntax': ['error', privateFields],
    },
  },
);
