/** @type {import('jest').Config} */
module.exports = {
  // The app's tests here, and the host package's own (host/jest.config.js).
  projects: [
    {
      displayName: 'app',
      testEnvironment: 'node',
      roots: ['<rootDir>/tests'],
      transform: {
        '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }],
        // badge-maker ships only ES modules; Node loads them with require(esm), which Jest's
        // own module loader supports only from Node 24.9, so its files are compiled to CommonJS.
        '/node_modules/badge-maker/.+\\.js$': [
          'ts-jest',
          { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022' } },
        ],
      },
      transformIgnorePatterns: ['/node_modules/(?!badge-maker/)'],
      // Tests use the host's test helpers from its source, as tsconfig.test.json types them.
      moduleNameMapper: { '^@rusty-counter/host$': '<rootDir>/host/src/index.ts' },
      setupFiles: ['<rootDir>/tests/support/quiet-test-mode.ts'],
      testTimeout: 30000,
    },
    '<rootDir>/host',
  ],
  testTimeout: 30000,
  // Jest's default is one worker per core but one, which on a 2-core machine runs the files one
  // by one. Most of the suite waits on hosts, disks and sockets rather than computing, and every
  // test must pass on a busy machine anyway, so two run at once here too.
  maxWorkers: 2,
};
