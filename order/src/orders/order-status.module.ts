import { Module } from '@nestjs/common';
import { OrderStatusWatcher } from './order-status.watcher';

/** The single `order_status` subscription, shared by the orders API and the readiness check. */
@Module({
  providers: [OrderStatusWatcher],
  exports: [OrderStatusWatcher],
})
export class OrderStatusModule {}
