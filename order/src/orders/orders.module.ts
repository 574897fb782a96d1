import { type DynamicModule, Module } from '@nestjs/common';
import { OrderStatusModule } from './order-status.module';
import { OrdersController } from './orders.controller';
import { ORDERS_SETTINGS, OrdersService, type OrdersSettings } from './orders.service';
import { TracePropagator } from './trace-propagator';

/** The orders API. Redis, keys, scripts and the logger come from the global `CoreModule`. */
@Module({})
export class OrdersModule {
  /** Builds the module with the service's recording settings. */
  static forRoot(settings: OrdersSettings): DynamicModule {
    return {
      module: OrdersModule,
      imports: [OrderStatusModule],
      controllers: [OrdersController],
      providers: [OrdersService, { provide: ORDERS_SETTINGS, useValue: settings }, TracePropagator],
      exports: [ORDERS_SETTINGS, TracePropagator],
    };
  }
}
