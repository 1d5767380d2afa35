/**
 * Tests run serially (one Temporal server per suite, real PostgreSQL, and the time-skipping clock is
 * global to its environment). Jest does not transform workflow code: workers bundle it themselves.
 * @type {import('jest').Config}
 */
const swc = (parser) => ['@swc/jest', { jsc: { target: 'es2022', parser }, module: { type: 'commonjs' } }];

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': swc({ syntax: 'typescript' }),
    // Node 20's require() loads ESM-only packages, Jest's module system does not: compile those to CommonJS.
    '^.+\\.m?js$': swc({ syntax: 'ecmascript' }),
  },
  // The ESM-only packages Fastify's plugins and light-my-request pull in.
  transformIgnorePatterns: ['/node_modules/(?!(content-disposition|cookie|set-cookie-parser|toad-cache|fast-copy)/)'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  maxWorkers: 1,
  testTimeout: 120_000,
  verbose: true,
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
};
