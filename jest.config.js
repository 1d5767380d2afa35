/**
 * Tests run serially (one Temporal server per suite, real PostgreSQL, and the time-skipping clock is
 * global to its environment). Jest does not transform workflow code: workers bundle it themselves.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
    ],
  },
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  setupFilesAfterEnv: ['<rootDir>/test/after-each-file.ts'],
  maxWorkers: 1,
  testTimeout: 120_000,
  verbose: true,
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
};
