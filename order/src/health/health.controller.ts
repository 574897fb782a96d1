import { Controller, Get } from '@nestjs/common';
import { HealthCheck, type HealthCheckResult } from '@nestjs/terminus';
import { RedisReadiness } from '@eo/platform';
import { OrderStatusWatcher } from '../orders/order-status.watcher';

/** Liveness (the process serves HTTP) and readiness (Redis answers, `order_status` subscribed for `?waitMs`). */
@Controller('health')
export class HealthController {
  constructor(
    private readonly readiness: RedisReadiness,
    private readonly watcher: OrderStatusWatcher,
  ) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.readiness.check(() => this.watcher.problem());
  }
}
