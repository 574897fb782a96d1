// Helpers only tests use: every script of an order's life driven by hand, a proxy that loses a
// reply, and test certificates.
export { OrderLifecycleScripts, type Attempt, type ClaimResult } from './order-scripts';
export { ReplyCutter } from './reply-cutter';
export { makeTestCertificates, type TestCertificates } from './tls';
