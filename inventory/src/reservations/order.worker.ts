import { Inject, Injectable } from '@nestjs/common';
import { decodeOrderMessage, ORDER_VOCABULARY, OrderStatus, parseStoredItems, RedisKeys } from '@eo/contract';
import type { CommitResult, Fence, Job } from '@eo/exactly-once';
import { ExactlyOnceWorkerHost } from '@eo/platform';
import { INVENTORY_CONFIG, type InventoryConfig } from '../config';
import { StockScripts, toCommitResult } from '../stock/stock.scripts';
import { ReservationsService } from './reservations.service';

/** The message that announces an order, and the status of an order with its reservation to make. */
export const ORDER_PLACED = { type: 'OrderPlaced', status: OrderStatus.Pending, fields: ['items'] } as const;

/**
 * This replica's exactly-once worker on `order_updates`: for an OrderPlaced, the reservation
 * service's work under the lease, then the fenced `reserve-stock.lua`.
 */
@Injectable()
export class OrderWorker extends ExactlyOnceWorkerHost {
  constructor(
    @Inject(INVENTORY_CONFIG) config: InventoryConfig,
    keys: RedisKeys,
    private readonly reservations: ReservationsService,
    private readonly stock: StockScripts,
  ) {
    super({
      worker: config.replica,
      tuning: config,
      channel: keys.orderUpdatesChannel,
      decode: decodeOrderMessage,
      vocabulary: ORDER_VOCABULARY,
      messages: [ORDER_PLACED],
    });
  }

  process(job: Job, signal: AbortSignal): Promise<void> {
    return this.reservations.prepare({ orderId: job.id, items: parseStoredItems(job.fields.items) }, signal);
  }

  async commit(job: Job, fence: Fence): Promise<CommitResult> {
    return toCommitResult(await this.stock.reserve(fence, parseStoredItems(job.fields.items)));
  }
}
