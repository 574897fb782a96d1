import { Controller, Get } from '@nestjs/common';
import { HealthCheck, type HealthCheckResult } from '@nestjs/terminus';
import { RedisReadiness } from '@eo/platform';
import { OrderWorker } from '../reservations/order.worker';

/** Liveness (the process serves HTTP) and readiness (Redis answers, `order_updates` subscribed). */
@Controller('health')
export class HealthController {
  constructor(
    private readonly readiness: RedisReadiness,
    private readonly worker: OrderWorker,
  ) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.readiness.check(() => (this.worker.consumer.isSubscribed ? undefined : 'not subscribed to order_updates'));
  }
}
