import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import type { Redis } from 'ioredis';
import { COMMANDS, RedisHealthIndicator, SUBSCRIBER } from '@eo/core';
import { OrderStatusWatcher } from '../orders/order-status.watcher';

/**
 * Liveness says the process serves HTTP, so Kubernetes never restarts the pod for a Redis outage;
 * readiness says both Redis connections work, so traffic stops while Redis is away.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly redisHealth: RedisHealthIndicator,
    @Inject(COMMANDS) private readonly commands: Redis,
    @Inject(SUBSCRIBER) private readonly subscriber: Redis,
    private readonly watcher: OrderStatusWatcher,
  ) {}

  /** 200 while the process runs. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** 200 when the commands and subscriber connections answer, 503 otherwise (terminus report). */
  @Get('ready')
  ready(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.redisHealth.check('redis_commands', this.commands),
      () => this.redisHealth.check('redis_subscriber', this.subscriber, () => this.watcher.problem()),
    ]);
  }
}
