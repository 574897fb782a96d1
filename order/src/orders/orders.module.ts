import { type DynamicModule, Module } from '@nestjs/common';
import { OrderStatusModule } from './order-status.module';
import { OrdersController } from './orders.controller';
import { RedisKeys } from '@eo/contract';
import { ScriptClient } from '@eo/exactly-once';
import { OrderScripts } from './order.scripts';
import { ORDERS_SETTINGS, OrdersService, type OrdersSettings } from './orders.service';
import { TracePropagator } from './trace-propagator';

/** The orders API and the order service's scripts. Redis, keys and the logger come from the global `PlatformModule`. */
@Module({})
export class OrdersModule {
  /** Builds the module with the service's recording settings. */
  static forRoot(settings: OrdersSettings): DynamicModule {
    return {
      module: OrdersModule,
      imports: [OrderStatusModule],
      controllers: [OrdersController],
      providers: [
        OrdersService,
        { provide: ORDERS_SETTINGS, useValue: settings },
        TracePropagator,
        {
          provide: OrderScripts,
          inject: [ScriptClient, RedisKeys],
          useFactory: (client: ScriptClient, keys: RedisKeys) => new OrderScripts(client, keys, settings.retentionMs),
        },
      ],
      exports: [ORDERS_SETTINGS, TracePropagator, OrderScripts],
    };
  }
}
