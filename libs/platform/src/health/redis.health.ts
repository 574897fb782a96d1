import { Inject, Injectable } from '@nestjs/common';
import { HealthCheckService, HealthIndicatorService, type HealthCheckResult, type HealthIndicatorResult } from '@nestjs/terminus';
import type { Redis } from 'ioredis';
import { COMMANDS, SUBSCRIBER, WRITES } from '../redis/tokens';

/** Injection token of the {@link DurabilitySettings}. */
export const DURABILITY = Symbol('DURABILITY');

/** `REDIS_WAIT_REPLICAS` and `REDIS_WAIT_TIMEOUT_MS` as the readiness check needs them. */
export interface DurabilitySettings {
  replicas: number;
  timeoutMs: number;
}

/** A replica counts as able to confirm writes while its last acknowledgement is at most this old (it sends one a second). */
const MAX_REPLICA_LAG_SECONDS = 2;

/**
 * Why a node whose `INFO replication` is `info` cannot take confirmed writes now, or undefined when
 * it can: it must be a master, with at least `replicas` replicas online and acknowledging.
 */
export function writableProblem(info: string, replicas: number): string | undefined {
  const role = /^role:(\w+)/m.exec(info)?.[1];
  if (role !== 'master') return `connected to a ${role ?? 'node of unknown role'}, not a master: writes are refused`;
  if (replicas === 0) return undefined;
  let acknowledging = 0;
  for (const [, fields] of info.matchAll(/^slave\d+:(.*)$/gm)) {
    const state = /(?:^|,)state=([^,]*)/.exec(fields)?.[1];
    const lag = Number(/(?:^|,)lag=(\d+)/.exec(fields)?.[1] ?? Infinity);
    if (state === 'online' && lag <= MAX_REPLICA_LAG_SECONDS) acknowledging++;
  }
  if (acknowledging >= replicas) return undefined;
  return `${acknowledging} of the ${replicas} replica(s) REDIS_WAIT_REPLICAS asks for are online: writes cannot be confirmed`;
}

function withinOneSecond<T>(call: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    call,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after 1000 ms`)), 1000);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Readiness of one Redis connection: connected and answering within a second. */
@Injectable()
export class RedisHealthIndicator {
  constructor(private readonly health: HealthIndicatorService) {}

  /** Reports `key` up when `redis` is ready and answers PING, down otherwise. */
  async check(key: string, redis: Redis, extra?: () => string | undefined): Promise<HealthIndicatorResult> {
    const indicator = this.health.check(key);
    if (redis.status !== 'ready') return indicator.down({ message: `redis connection is ${redis.status}` });
    const problem = extra?.();
    if (problem) return indicator.down({ message: problem });
    try {
      await withinOneSecond(redis.ping(), 'PING');
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: error instanceof Error ? error.message : String(error) });
    }
  }

  /**
   * Reports `key` up when `redis` is connected to a master that can confirm writes to `replicas`
   * replicas (see {@link writableProblem}), down otherwise.
   */
  async checkWritable(key: string, redis: Redis, replicas: number): Promise<HealthIndicatorResult> {
    const indicator = this.health.check(key);
    if (redis.status !== 'ready') return indicator.down({ message: `redis connection is ${redis.status}` });
    try {
      const problem = writableProblem(await withinOneSecond(redis.info('replication'), 'INFO replication'), replicas);
      return problem ? indicator.down({ message: problem }) : indicator.up();
    } catch (error) {
      return indicator.down({ message: error instanceof Error ? error.message : String(error) });
    }
  }
}

/**
 * Readiness of a service: the commands connection reaches a writable master (with the replicas
 * REDIS_WAIT_REPLICAS asks for), every other connection answers, and the subscriber has what the
 * service subscribes to (`problem` names what is missing). Liveness never looks at Redis, so
 * Kubernetes stops sending traffic during a Redis outage or failover but does not restart the pod.
 */
@Injectable()
export class RedisReadiness {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: RedisHealthIndicator,
    @Inject(COMMANDS) private readonly commands: Redis,
    @Inject(WRITES) private readonly writes: Redis,
    @Inject(SUBSCRIBER) private readonly subscriber: Redis,
    @Inject(DURABILITY) private readonly durability: DurabilitySettings,
  ) {}

  /** The terminus report: 200 when ready, 503 (with the reason per connection) otherwise. */
  check(subscriptionProblem: () => string | undefined): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.indicator.checkWritable('redis_commands', this.commands, this.durability.replicas),
      ...(this.writes === this.commands ? [] : [() => this.indicator.check('redis_writes', this.writes)]),
      () => this.indicator.check('redis_subscriber', this.subscriber, subscriptionProblem),
    ]);
  }
}
