// The public API of the exactly-once engine: what a service uses, nothing else.
export { rendezvousRank, rendezvousRunnerUp, rendezvousWeight } from './affinity';
export {
  ExactlyOnceConsumer,
  type ClaimMode,
  type ConsumerOptions,
  type ConsumerTuning,
  type Decoded,
  type Job,
  type Message,
  type MessageHandler,
  type Subscriber,
} from './consumer';
export { LeaseLostError, ShutdownAbortError } from './errors';
export { sleep, withLease, type LeaseOptions } from './lease';
export { NotAcknowledgedError, ReplicationAcks } from './replication-acks';
export {
  parseFenceRefusal,
  UnexpectedReplyError,
  type Attempt,
  type ClaimResult,
  type CommitResult,
  type DueBatch,
  type FailResult,
  type FenceRefusal,
} from './results';
export { ScriptClient, type CallOptions, type Durability, type ScriptClientOptions } from './script-client';
export { ENGINE_SCRIPTS, scriptSource, type ScriptDefinition, type ScriptSet } from './scripts';
export { epochMs, noMetrics, noTracing, type Logger, type Metrics, type MetricTags, type ProcessSpan, type Tracing } from './telemetry';
export { engineLogEvents, engineMetricNames, type Vocabulary } from './vocabulary';
export { WorkQueue, type ClaimOptions, type Fence, type QueueKeys } from './work-queue';
