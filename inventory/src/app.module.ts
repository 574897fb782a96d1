import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule, type Logger } from '@eo/platform';
import { INVENTORY_CONFIG, type InventoryConfig } from './config';
import { HealthModule } from './health/health.module';
import { ReservationsModule } from './reservations/reservations.module';

/** Root module of one inventory replica. */
@Module({})
export class AppModule {
  static forRoot(config: InventoryConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [PlatformModule.forRoot({ config, logger, failFastCommands: false }), ReservationsModule, HealthModule],
      providers: [{ provide: INVENTORY_CONFIG, useValue: config }],
      exports: [INVENTORY_CONFIG],
    };
  }
}
