/**
 * Two jest projects: `unit` (specs beside the code, real-Redis tests in each package's test/) and
 * `system` (whole-system and fault tests that spawn the built services as processes).
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
    '^@eo/(exactly-once|contract|platform|testing)$': '<rootDir>/libs/$1/src',
    '^@eo/inventory/scripts$': '<rootDir>/inventory/src/stock/stock.scripts',
    '^@eo/order/scripts$': '<rootDir>/order/src/orders/order.scripts',
  },
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 30_000,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/{libs/*,order,inventory}/{src,test}/**/*.{spec,test}.ts', '<rootDir>/test/integration/**/*.test.ts'],
    },
    {
      ...shared,
      displayName: 'system',
      testMatch: ['<rootDir>/tools/{src,test}/**/*.{spec,test}.ts'],
    },
  ],
};
