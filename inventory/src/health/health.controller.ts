import { Controller, Get } from '@nestjs/common';
import { HealthCheck, type HealthCheckResult } from '@nestjs/terminus';
import { RedisReadiness } from '@eo/core';
import { OrderPlacedListener } from '../reservations/order-placed.listener';

/** Liveness (the process serves HTTP) and readiness (Redis answers, `order_updates` subscribed). */
@Controller('health')
export class HealthController {
  constructor(
    private readonly readiness: RedisReadiness,
    private readonly listener: OrderPlacedListener,
  ) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.readiness.check(() => (this.listener.consumer.isSubscribed ? undefined : 'not subscribed to order_updates'));
  }
}
