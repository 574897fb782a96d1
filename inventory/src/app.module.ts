import { type DynamicModule, Module } from '@nestjs/common';
import { CoreModule, type Logger } from '@eo/core';
import { INVENTORY_CONFIG, type InventoryConfig } from './config';
import { HealthModule } from './health/health.module';
import { ReservationsModule } from './reservations/reservations.module';
import { StockModule } from './stock/stock.module';

/** Root module of one inventory replica. */
@Module({})
export class AppModule {
  static forRoot(config: InventoryConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [CoreModule.forRoot({ config, logger, failFastCommands: false }), ReservationsModule, StockModule, HealthModule],
      providers: [{ provide: INVENTORY_CONFIG, useValue: config }],
      exports: [INVENTORY_CONFIG],
    };
  }
}
