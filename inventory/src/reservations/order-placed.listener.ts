import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { DatadogOrderTracing, ExactlyOnceConsumer, LOGGER, METRICS, type Metrics, OrderScripts, RedisKeys, SUBSCRIBER } from '@eo/core';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { INVENTORY_CONFIG, type InventoryConfig } from '../config';
import { ReservationsService } from './reservations.service';

/**
 * Owns this replica's {@link ExactlyOnceConsumer}: subscribes to `order_updates` once the app is up
 * and drains in-flight orders before Nest closes the Redis connections.
 */
@Injectable()
export class OrderPlacedListener implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly consumer: ExactlyOnceConsumer;

  constructor(
    scripts: OrderScripts,
    @Inject(SUBSCRIBER) subscriber: Redis,
    keys: RedisKeys,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(INVENTORY_CONFIG) config: InventoryConfig,
    reservations: ReservationsService,
    @Inject(METRICS) metrics: Metrics,
  ) {
    this.consumer = new ExactlyOnceConsumer(
      scripts,
      subscriber,
      keys,
      logger,
      config,

      (order, signal) => reservations.prepare(order, signal),
      { tracing: new DatadogOrderTracing(config.replica), metrics },
    );
  }

  onApplicationBootstrap(): void {
    // Not awaited: with Redis away at boot the subscription waits for it, and the HTTP server (live
    // probe, readiness = false) must come up meanwhile.
    this.consumer.start().catch((err: unknown) => this.logger.fatal({ err }, 'could not start the consumer'));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer.stop();
  }
}
