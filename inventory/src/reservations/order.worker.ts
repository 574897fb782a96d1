import { Inject, Injectable } from '@nestjs/common';
import {
  CANCELLING,
  decodeOrderMessage,
  LogEvent,
  Metric,
  MessageType,
  ORDER_VOCABULARY,
  OrderStatus,
  parseStoredItems,
  RedisKeys,
} from '@eo/contract';
import type { CommitResult, Fence, Job } from '@eo/exactly-once';
import { ExactlyOnceWorkerHost } from '@eo/platform';
import { INVENTORY_CONFIG, type InventoryConfig } from '../config';
import { releaseCommitResult, StockScripts, toCommitResult } from '../stock/stock.scripts';
import { ReservationsService } from './reservations.service';

/** The message that announces an order, and the status of an order with its reservation to make. */
export const ORDER_PLACED = { type: MessageType.OrderPlaced, status: OrderStatus.Pending, fields: ['items'] } as const;

/**
 * The message that announces a cancellation, and the status of an order whose reservation is to be
 * given back. A release never gives up (a lost one would keep the stock locked forever), so its
 * attempts are unbounded in practice; it counts and logs as `order.cancelled`, not as a second
 * `order.processed`.
 */
export const ORDER_CANCELLED = {
  type: MessageType.OrderCancelled,
  status: CANCELLING,
  fields: ['items'],
  maxAttempts: 1_000_000_000,
  committed: { event: LogEvent.OrderCancelled, metric: Metric.Cancelled },
} as const;

/**
 * This replica's exactly-once worker on `order_updates`: for an OrderPlaced, the reservation
 * service's work under the lease, then the fenced `reserve-stock.lua`; for an OrderCancelled, the
 * fenced `release-stock.lua`.
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
      messages: [ORDER_PLACED, ORDER_CANCELLED],
    });
  }

  process(job: Job, signal: AbortSignal): Promise<void> {
    const order = { orderId: job.id, items: parseStoredItems(job.fields.items) };
    return job.type === MessageType.OrderCancelled ? this.reservations.prepareRelease(signal) : this.reservations.prepare(order, signal);
  }

  async commit(job: Job, fence: Fence): Promise<CommitResult> {
    const items = parseStoredItems(job.fields.items);
    if (job.type === MessageType.OrderCancelled) return releaseCommitResult(await this.stock.release(fence, items));
    return toCommitResult(await this.stock.reserve(fence, items));
  }
}
