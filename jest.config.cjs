// One jest run, three projects: `unit` (pure, next to the code), `integration`
// (real InfluxDB and MQTT brokers, under test/) and `browser` (real Chromium).
// SWC transpiles only; `npm run typecheck` does the type checking.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];
const common = {
  transform: { '^.+\\.(t|j)s$': swc },
  moduleNameMapper: {
    '^@park/telemetry/testing$': '<rootDir>/libs/telemetry/src/testing.ts',
    '^@park/telemetry$': '<rootDir>/libs/telemetry/src/index.ts',
    '^@park/metrics$': '<rootDir>/libs/metrics/src/index.ts',
    '^@park/park-sim$': '<rootDir>/libs/park-sim/src/index.ts',
  },
  // aedes 1.x is ESM-only; SWC turns it into CommonJS like our own code.
  transformIgnorePatterns: ['/node_modules/(?!aedes/)'],
  testEnvironment: 'node',
  rootDir: __dirname,
};
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
    {
      ...common,
      displayName: 'browser',
      testMatch: ['<rootDir>/test/browser/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
};
