import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { COMMANDS, RedisHealthIndicator, SUBSCRIBER } from '@eo/core';
import type { Redis } from 'ioredis';
import { OrderPlacedListener } from '../reservations/order-placed.listener';

/** Liveness (the process answers) and readiness (Redis reachable and `order_updates` subscribed). */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly redisHealth: RedisHealthIndicator,
    @Inject(COMMANDS) private readonly commands: Redis,
    @Inject(SUBSCRIBER) private readonly subscriber: Redis,
    private readonly listener: OrderPlacedListener,
  ) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.redisHealth.check('redis', this.commands),
      () =>
        this.redisHealth.check('subscriber', this.subscriber, () =>
          this.listener.consumer.isSubscribed ? undefined : 'not subscribed to order_updates',
        ),
    ]);
  }
}
