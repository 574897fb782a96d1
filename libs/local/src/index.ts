// The whole system on this machine: a private redis-server (or a Sentinel topology), the services
// as processes, fault injection and the invariant checker, for npm start, demo, soak, the benches
// and the tests. Named exports only.
export {
  FaultInjector,
  GARBAGE_MESSAGES,
  OrderFlow,
  availabilityGap,
  type FaultKind,
  type FlowAnswer,
  type FlowCancellations,
  type FlowOptions,
  type FlowResult,
} from './faults';
export { answers, delay, mapLimit, requestJson, type HttpReply } from './http';
export {
  checkInvariants,
  formatReport,
  HttpStateReader,
  RedisStateReader,
  type DuplicateProcessing,
  type InvariantInput,
  type InvariantReport,
  type OrderState,
  type SkuReport,
  type StateReader,
  type StockState,
} from './invariants';
export { repoRoot, serviceEntry, type ServiceName } from './paths';
export { acceptsTcp, freePort, freePortBlock, readsDuring, REDIS_SERVER_BIN, RedisServer, type RedisServerOptions } from './redis-server';
export { SentinelTopology, type SentinelTopologyOptions } from './sentinel';
export {
  ServiceProcess,
  type ExitResult,
  type LogLine,
  type LogRetention,
  type RawLine,
  type ServiceProcessOptions,
} from './service-process';
export { SystemHarness, type PlacedOrder, type PlaceOrderOptions, type SystemOptions } from './system';
