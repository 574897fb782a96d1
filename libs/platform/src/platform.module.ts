import { type DynamicModule, Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { getRedisConnectionToken, RedisModule } from '@nestjs-modules/ioredis';
import { COMMANDS, COMMANDS_CONNECTION, SUBSCRIBER, SUBSCRIBER_CONNECTION, WRITES, WRITES_CONNECTION } from './redis/tokens';
import { TerminusModule } from '@nestjs/terminus';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { CommonConfig } from './config/env';
import { DURABILITY, type DurabilitySettings, RedisHealthIndicator, RedisReadiness } from './health/redis.health';
import { LogEvent, OrderStore, RedisKeys } from '@eo/contract';
import { ScriptClient, WorkQueue } from '@eo/exactly-once';
import { DogStatsDMetrics, TracerMetrics } from './observability/metrics';
import { DatadogTracing } from './observability/tracing';
import { credentialsOf, redisOptionsFromUrl } from './redis/connection';

/** Injection token of the pino logger. */
export const LOGGER = Symbol('LOGGER');
/** Injection token of the {@link Metrics} recorder (DogStatsD through dd-trace). */
export const METRICS = Symbol('METRICS');

/** Injection token of the engine's {@link DatadogTracing} for this replica. */
export const TRACING = Symbol('TRACING');

/** How a service wants its Redis connections. */
export interface PlatformModuleOptions {
  config: CommonConfig;
  logger: Logger;
  /** Fail commands at once while disconnected (HTTP paths answer 503) instead of queueing them. */
  failFastCommands: boolean;
}

/** Connections we are closing on purpose: their `close` is logged as info, not as a problem. */
const closingOnPurpose = new WeakSet<Redis>();

/** QUIT politely (bounded to 1 s), then drop the socket. */
async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  closingOnPurpose.add(redis);
  try {
    await Promise.race([redis.quit(), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
  } catch {
    // already closing or unreachable: disconnect below
  }
  // After a clean QUIT the status is 'end'; disconnecting again would leave a 2 s timer behind.
  // Except behind Sentinel: only disconnect() closes the failover detector's Sentinel connections,
  // which would otherwise keep the process alive.
  if ((redis.status as string) !== 'end' || redis.options.sentinels) redis.disconnect();
}

/**
 * Logs connection state changes once per change: while Redis is away ioredis alternates `error` and
 * `reconnecting` many times a second, which would flood the log; one `down` line and one `ready`
 * line tell the story.
 */
function watch(redis: Redis, name: string, logger: Logger): void {
  let state: 'unknown' | 'up' | 'down' = 'unknown';
  redis.on('ready', () => {
    if (state === 'up') return;
    state = 'up';
    logger.info({ event: LogEvent.RedisState, connection: name, state: 'ready' }, `redis ${name} connection ready`);
  });
  const onDown = (what: string, err?: unknown): void => {
    if (state === 'down') return;
    state = 'down';
    logger[closingOnPurpose.has(redis) ? 'info' : 'warn'](
      { event: LogEvent.RedisState, connection: name, state: what, err },
      `redis ${name} connection ${what}`,
    );
  };
  redis.on('error', (err: unknown) => onDown('error', err));
  redis.on('close', () => onDown('closed'));
}

/**
 * Wires what every service shares: the Redis connections (commands, subscriber and, with
 * `REDIS_WAIT_REPLICAS` ≥ 1, confirmed writes, through `@nestjs-modules/ioredis`, closed on
 * shutdown), {@link RedisKeys}, the {@link ScriptClient} every script call goes through, the logger,
 * metrics, tracing and the Redis health indicator.
 */
@Global()
@Module({})
export class PlatformModule implements OnApplicationShutdown {
  constructor(
    @Inject(COMMANDS) private readonly commands: Redis,
    @Inject(SUBSCRIBER) private readonly subscriber: Redis,
    @Inject(WRITES) private readonly writes: Redis,
    @Inject(METRICS) private readonly metrics: DogStatsDMetrics | TracerMetrics,
  ) {}

  /**
   * Closes every connection. `@nestjs-modules/ioredis` tries too, but with several named connections
   * its strict module lookup finds only one of them, and an open socket keeps the process alive.
   */
  async onApplicationShutdown(): Promise<void> {
    const connections = new Set([this.commands, this.subscriber, this.writes]);
    await Promise.all([...[...connections].map((redis) => closeRedis(redis)), this.metrics.close()]);
  }

  /** Builds the module for one service's configuration. */
  static forRoot(options: PlatformModuleOptions): DynamicModule {
    const { config, logger } = options;
    const connection = (name: string, failFast: boolean) =>
      RedisModule.forRoot(
        {
          type: 'single',
          options: redisOptionsFromUrl(config.redisUrl, {
            connectionName: `${config.service}:${config.replica}:${name}`,
            offlineQueue: !failFast,
            commandTimeoutMs: config.redisCommandTimeoutMs,
            ...credentialsOf(config),
          }),
          onClientReady: (client) => watch(client, name, logger),
        },
        name,
      );
    const durability: DurabilitySettings = { replicas: config.redisWaitReplicas, timeoutMs: config.redisWaitTimeoutMs };
    const confirmed = durability.replicas > 0;
    return {
      module: PlatformModule,
      imports: [
        connection(COMMANDS_CONNECTION, options.failFastCommands),
        connection(SUBSCRIBER_CONNECTION, false),
        ...(confirmed ? [connection(WRITES_CONNECTION, options.failFastCommands)] : []),
        TerminusModule.forRoot({ logger: false }),
      ],
      providers: [
        { provide: LOGGER, useValue: logger },
        {
          provide: METRICS,
          useValue: config.tracing
            ? new TracerMetrics(config.replica)
            : new DogStatsDMetrics({
                ...config.dogstatsd,
                tags: { service: config.service, env: config.env, version: config.version, replica: config.replica },
                onError: (err) => logger.warn({ event: LogEvent.MetricsFailed, err }, 'sending DogStatsD metrics failed; dropping them'),
              }),
        },
        { provide: RedisKeys, useValue: new RedisKeys(config.redisNamespace) },
        { provide: DURABILITY, useValue: durability },
        { provide: WRITES, useExisting: confirmed ? getRedisConnectionToken(WRITES_CONNECTION) : COMMANDS },
        { provide: TRACING, useValue: new DatadogTracing(config.replica) },
        {
          provide: ScriptClient,
          inject: [COMMANDS, WRITES, TRACING],
          useFactory: (redis: Redis, writes: Redis, tracing: DatadogTracing) =>
            new ScriptClient(redis, { durability: { writes, ...durability }, tracing }),
        },
        { provide: OrderStore, inject: [COMMANDS, RedisKeys], useFactory: (redis: Redis, keys: RedisKeys) => new OrderStore(redis, keys) },
        {
          provide: WorkQueue,
          inject: [ScriptClient, RedisKeys],
          useFactory: (client: ScriptClient, keys: RedisKeys) => new WorkQueue(client, keys, config.orderRetentionMs),
        },
        RedisHealthIndicator,
        RedisReadiness,
      ],
      exports: [
        LOGGER,
        METRICS,
        TRACING,
        RedisKeys,
        OrderStore,
        ScriptClient,
        WorkQueue,
        WRITES,
        RedisHealthIndicator,
        RedisReadiness,
        TerminusModule,
      ],
    };
  }
}
