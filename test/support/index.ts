// Helpers only tests use: every script of an order's life driven by hand, and test certificates.
export { OrderLifecycleScripts, type Attempt, type ClaimResult } from './order-scripts';
export { makeTestCertificates, type TestCertificates } from './tls';
