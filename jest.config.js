/**
 * Three jest projects: `unit` (specs beside the code, real-Redis tests in each package's test/, and
 * test/integration: the engine with the services' scripts, in process), `system` (the suites in
 * test/ that spawn the built services, CLIs, Redis and Sentinel as processes), and
 * `faults-affinity` (the fault suite again, with the replicas in CLAIM_MODE=affinity).
 */
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

const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^@eo/platform/instrumentation$': '<rootDir>/libs/platform/src/observability/instrumentation',
    '^@eo/(exactly-once|contract|platform|local)$': '<rootDir>/libs/$1/src',
    '^@eo/test-support$': '<rootDir>/test/support',
    '^@eo/tools/(.*)$': '<rootDir>/tools/src/$1',
    '^@eo/(order|inventory)/config$': '<rootDir>/$1/src/config',
    '^@eo/inventory/scripts$': '<rootDir>/inventory/src/stock/stock.scripts',
    '^@eo/order/scripts$': '<rootDir>/order/src/orders/order.scripts',
  },
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 30_000,
  // Two test files at a time even on two cores (jest's default would be one): the system tests
  // spend most of their time waiting on the processes they spawn, so two halve the wall time.
  maxWorkers: 2,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/{libs/*,order,inventory}/{src,test}/**/*.{spec,test}.ts',
        '<rootDir>/tools/src/**/*.spec.ts',
        '<rootDir>/test/integration/**/*.test.ts',
      ],
    },
    {
      ...shared,
      displayName: 'system',
      testMatch: ['<rootDir>/test/{system,cli,faults,failover,datadog,deploy,audit}/**/*.test.ts'],
    },
    {
      ...shared,
      displayName: 'faults-affinity',
      testMatch: ['<rootDir>/test/faults/**/*.test.ts'],
      setupFiles: ['<rootDir>/test/faults/affinity-mode.ts'],
    },
  ],
};
