import { randomUUID } from 'node:crypto';
import { ConflictException, HttpStatus, Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { buildEnvelope, LogEvent, OrderStatus, OrderStore, type OrderStatusName, type OrderSummary, RedisKeys } from '@eo/contract';
import { type Metrics } from '@eo/exactly-once';
import { COMMANDS, LOGGER, METRICS, type Logger } from '@eo/platform';
import { OrderScripts } from '../orders/order.scripts';
import { ORDERS_SETTINGS, type OrdersSettings, READ_UNAVAILABLE, callRedis, notFound, untilAnswered } from '../orders/orders.service';
import { TracePropagator } from '../orders/trace-propagator';

/** A page of an admin listing; `nextCursor` is null on the last page. */
export interface OrderPage {
  items: OrderSummary[];
  nextCursor: string | null;
}

/** Message of the 503 when the retry script's call kept failing: it may have run. */
const RETRY_UNAVAILABLE = 'Redis is unavailable; the retry may or may not have been made (GET /orders/:id tells). Retry later.';

/**
 * What operators do with orders: list them by status (FAILED and PENDING from their sorted sets, in
 * the order they failed or fell due; the others by scanning the order hashes) and send a FAILED one
 * through again.
 */
@Injectable()
export class AdminService implements OnModuleDestroy {
  /** Set at shutdown: a retry stops re-running its script. */
  private closing = false;

  constructor(
    @Inject(COMMANDS) private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly store: OrderStore,
    private readonly scripts: OrderScripts,
    private readonly trace: TracePropagator,
    @Inject(ORDERS_SETTINGS) private readonly settings: OrdersSettings,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS) private readonly metrics: Metrics,
  ) {}

  onModuleDestroy(): void {
    this.closing = true;
  }

  /** Up to `limit` orders with `status`, after `cursor` (a `nextCursor` of the previous page). */
  async list(status: OrderStatusName, limit: number, cursor: string | undefined): Promise<OrderPage> {
    return callRedis(this.logger, this.metrics, 'list', READ_UNAVAILABLE, async () => {
      if (status === OrderStatus.Failed) return this.sortedSetPage(this.keys.dead, status, limit, cursor);
      if (status === OrderStatus.Pending) return this.sortedSetPage(this.keys.pending, status, limit, cursor);
      return this.scanPage(status, limit, cursor);
    });
  }

  /**
   * A FAILED order back to PENDING with its attempts reset, off orders:dead, on the backlog and
   * published, in one script; 409 for an order that is not FAILED, 404 for none. A failed call is
   * re-run with the same token: the first run may have been applied with its reply lost.
   */
  async retry(orderId: string, requestId: string): Promise<{ orderId: string; status: typeof OrderStatus.Pending }> {
    const stored = await callRedis(this.logger, this.metrics, 'read', READ_UNAVAILABLE, () => this.store.get(orderId));
    if (stored === undefined) throw notFound(orderId);
    const envelope = buildEnvelope(orderId, stored.view.items, stored.view.createdAt || new Date().toISOString(), this.trace.headers());
    const [now, token] = [new Date().toISOString(), randomUUID()];
    const result = await callRedis(this.logger, this.metrics, 'retry', RETRY_UNAVAILABLE, () =>
      untilAnswered(
        this.logger,
        {
          operation: 'retry',
          orderId,
          stop: () => this.closing,
          late: (late) => late.code === 'retried' && this.retried(orderId, requestId),
        },
        () => this.scripts.retry(orderId, JSON.stringify(envelope), this.settings.recoveryGraceMs, now, token),
      ),
    );
    switch (result.code) {
      case 'retried':
        this.retried(orderId, requestId);
        return { orderId, status: OrderStatus.Pending };
      case 'not_failed':
        throw new ConflictException({
          statusCode: HttpStatus.CONFLICT,
          error: 'Conflict',
          message: `order ${orderId} is ${result.status}, not FAILED: only a FAILED order can be retried`,
          field: 'id',
        });
      case 'not_found':
        throw notFound(orderId);
    }
  }

  private retried(orderId: string, requestId: string): void {
    this.logger.info({ event: LogEvent.OrderRetried, orderId, requestId }, 'FAILED order sent through again');
  }

  /** A page of a sorted set of order ids, by score then id; the cursor is the last `score:id` given. */
  private async sortedSetPage(key: string, status: OrderStatusName, limit: number, cursor: string | undefined): Promise<OrderPage> {
    const [afterScore, afterId] = cursor === undefined ? [undefined, undefined] : parseCursor(cursor);
    // Entries with the cursor's own score come first again; skip them up to and including its id.
    const sameScore = afterScore === undefined ? 0 : await this.redis.zcount(key, afterScore, afterScore);
    const raw = await this.redis.zrangebyscore(key, afterScore ?? '-inf', '+inf', 'WITHSCORES', 'LIMIT', 0, limit + sameScore + 1);
    const entries: Array<{ id: string; score: number }> = [];
    for (let i = 0; i < raw.length; i += 2) {
      const entry = { id: raw[i], score: Number(raw[i + 1]) };
      if (afterScore !== undefined && entry.score === afterScore && entry.id <= afterId) continue;
      entries.push(entry);
    }
    const page = entries.slice(0, limit);
    const items = await this.store.summaries(page.map((e) => e.id));
    const last = page[page.length - 1];
    return {
      items: items.filter((s) => s.status === status),
      nextCursor: entries.length > limit && last ? `${last.score}:${last.id}` : null,
    };
  }

  /** A page found by SCAN over the order hashes; the cursor is SCAN's. A page may hold a few more than `limit`. */
  private async scanPage(status: OrderStatusName, limit: number, cursor: string | undefined): Promise<OrderPage> {
    let scan = cursor ?? '0';
    const items: OrderSummary[] = [];
    do {
      const step = await this.store.scanIds(scan, Math.max(limit, 100));
      scan = step.cursor;
      const found = await this.store.summaries(step.ids);
      items.push(...found.filter((s) => s.status === status));
    } while (scan !== '0' && items.length < limit);
    return { items, nextCursor: scan === '0' ? null : scan };
  }
}

function parseCursor(cursor: string): [number, string] {
  const colon = cursor.indexOf(':');
  return [Number(cursor.slice(0, colon)), cursor.slice(colon + 1)];
}
