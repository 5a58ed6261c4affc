/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }],
    // badge-maker ships only ES modules; Node loads them with require(esm), which Jest's own
    // module loader supports only from Node 24.9, so its files are compiled to CommonJS here.
    '/node_modules/badge-maker/.+\\.js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022' } },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!badge-maker/)'],
  setupFiles: ['<rootDir>/tests/support/quiet-test-mode.ts'],
  testTimeout: 30000,
};
