/** One jest run for the whole monorepo: unit specs beside the code, real-Redis and system tests in test/. */
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

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: { '^@eo/(core|testing)$': '<rootDir>/libs/$1/src' },
  testMatch: ['<rootDir>/{libs/*,order,inventory,tools}/{src,test}/**/*.{spec,test}.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 30_000,
};
