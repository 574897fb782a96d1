import { Module } from '@nestjs/common';
import { OrderPlacedListener } from './order-placed.listener';
import { ReservationsService } from './reservations.service';

/** Consumes `order_updates` and reserves stock exactly once per order. */
@Module({
  providers: [ReservationsService, OrderPlacedListener],
  exports: [OrderPlacedListener],
})
export class ReservationsModule {}
