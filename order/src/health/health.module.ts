import { Module } from '@nestjs/common';
import { OrderStatusModule } from '../orders/order-status.module';
import { HealthController } from './health.controller';

/** `/health/live` and `/health/ready`; terminus and the Redis indicator come from `CoreModule`. */
@Module({
  imports: [OrderStatusModule],
  controllers: [HealthController],
})
export class HealthModule {}
