import { Inject, Injectable } from '@nestjs/common';
import { HealthCheckService, HealthIndicatorService, type HealthCheckResult, type HealthIndicatorResult } from '@nestjs/terminus';
import type { Redis } from 'ioredis';
import { COMMANDS, SUBSCRIBER } from '../redis/tokens';

/** Readiness of one Redis connection: connected and answering PING within a second. */
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
      await Promise.race([
        redis.ping(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('PING timed out after 1000 ms')), 1000).unref()),
      ]);
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: error instanceof Error ? error.message : String(error) });
    }
  }
}

/**
 * Readiness of a service: both Redis connections answer, and the subscriber has what the service
 * subscribes to (`problem` names what is missing). Liveness never looks at Redis, so Kubernetes
 * stops sending traffic during a Redis outage but does not restart the pod for it.
 */
@Injectable()
export class RedisReadiness {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: RedisHealthIndicator,
    @Inject(COMMANDS) private readonly commands: Redis,
    @Inject(SUBSCRIBER) private readonly subscriber: Redis,
  ) {}

  /** The terminus report: 200 when ready, 503 (with the reason per connection) otherwise. */
  check(subscriptionProblem: () => string | undefined): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.indicator.check('redis_commands', this.commands),
      () => this.indicator.check('redis_subscriber', this.subscriber, subscriptionProblem),
    ]);
  }
}
