import { Module } from '@nestjs/common';
import { StockModule } from '../stock/stock.module';
import { OrderWorker } from './order.worker';
import { ReservationsService } from './reservations.service';

/** Consumes `order_updates` and reserves stock exactly once per order. */
@Module({
  imports: [StockModule],
  providers: [ReservationsService, OrderWorker],
  exports: [OrderWorker],
})
export class ReservationsModule {}
