// What the services share besides the engine and the contract: Redis wiring, configuration,
// logging, health, HTTP errors, Datadog and shutdown. Named exports only: this is the surface.
export {
  boolVar,
  ConfigError,
  DEFAULT_ORDER_RETENTION_MS,
  intVar,
  loadCommonConfig,
  maskRedisUrl,
  stringVar,
  type CommonConfig,
  type Env,
  type RedisTlsFiles,
} from './config/env';
export { RedisHealthIndicator, RedisReadiness } from './health/redis.health';
export { FieldValidationException, installErrorHandling, RedisUnavailableException, type ErrorBody } from './http/errors';
export { exitOnConfigError, exitOnSignals } from './lifecycle/shutdown';
export { createLogger, NestPinoLogger, type Logger } from './logging/logger';
export { DogStatsDMetrics, TracerMetrics } from './observability/metrics';
export { activeTraceHeaders, DatadogTracing } from './observability/tracing';
export { LOGGER, METRICS, PlatformModule, TRACING, type PlatformModuleOptions } from './platform.module';
export { serviceAclRules } from './redis/acl';
export { createRedis, credentialsOf, redisOptionsFromUrl, type ConnectionPolicy } from './redis/connection';
export { COMMANDS, SUBSCRIBER, WRITES } from './redis/tokens';
export { ExactlyOnceWorkerHost, type WorkerHostOptions } from './worker-host';
