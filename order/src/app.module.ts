import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule, type Logger } from '@eo/platform';
import type { OrderConfig } from './config';
import { HealthModule } from './health/health.module';
import { AdminModule } from './admin/admin.module';
import { OrdersModule } from './orders/orders.module';

/** The order service. */
@Module({})
export class AppModule {
  /** Builds the application for one configuration and logger. */
  static forRoot(config: OrderConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        // Fail-fast commands: while Redis is away a POST answers 503 at once instead of queueing.
        PlatformModule.forRoot({ config, logger, failFastCommands: true }),
        AdminModule.forRoot(
          config.adminToken,
          OrdersModule.forRoot({
            recoveryGraceMs: config.recoveryGraceMs,
            idempotencyTtlSeconds: config.idempotencyTtlSeconds,
            retentionMs: config.orderRetentionMs,
            replica: config.replica,
          }),
        ),
        HealthModule,
      ],
    };
  }
}
