/** @type {import('jest').Config} */
module.exports = {
  // The app's tests here, and the host package's own (host/jest.config.js).
  projects: [
    {
      displayName: 'app',
      testEnvironment: 'node',
      roots: ['<rootDir>/tests'],
      transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] },
      // Tests use the host's test helpers from its source, as tsconfig.test.json types them.
      moduleNameMapper: { '^@rusty-counter/host$': '<rootDir>/host/src/index.ts' },
      setupFiles: ['<rootDir>/tests/support/quiet-test-mode.ts'],
      testTimeout: 30000,
    },
    '<rootDir>/host',
  ],
  testTimeout: 30000,
};
