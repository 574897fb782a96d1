import type { Redis } from 'ioredis';
import type { OrderItem, OrderView } from './envelope';
import { apiStatus, CANCELLING, type OrderStatusName, type StoredStatus } from './events';
import type { RedisKeys } from './keys';

/** An order as stored: its view, and the hash of the request body that created it (tells a replay from a conflict). */
export interface StoredOrder {
  view: OrderView;
  bodyHash: string | undefined;
}

/** One order of an operator's listing. */
export interface OrderSummary {
  orderId: string;
  status: OrderStatusName;
  attempts: number;
  reason: string | null;
  updatedAt: string | null;
}

/** One SKU's stock. */
export interface StockLevel {
  available: number;
  reserved: number;
}

/** Keys per pipelined round trip when reading many. */
const BATCH = 1000;

/**
 * The one place that reads the order and stock hashes (asynq's `inspect.go` beside `rdb.go`): the
 * order service's reads, the admin listing, the invariant checker, the status, soak and bench tools
 * all read through here, so a field's name and type live in one module. Writes stay with the
 * scripts of whoever owns them.
 */
export class OrderStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /**
   * An order hash as `GET /orders/:id` shows it, or undefined when absent. Internal fields
   * (bodyHash, the commit tokens, lastError, trace) stay private.
   */
  static toView(orderId: string, hash: Record<string, string | undefined>): OrderView | undefined {
    if (hash.status === undefined || hash.items === undefined) return undefined;
    // Built in the documented field order, optional fields only when set, so the JSON reads the same every time.
    return {
      orderId,
      status: apiStatus(hash.status as StoredStatus),
      items: JSON.parse(hash.items) as OrderItem[],
      createdAt: hash.createdAt ?? '',
      updatedAt: hash.updatedAt ?? hash.createdAt ?? '',
      ...(hash.processedAt ? { processedAt: hash.processedAt } : {}),
      ...(hash.processedBy ? { processedBy: hash.processedBy } : {}),
      attempts: Number(hash.attempts ?? 0),
      ...(hash.reason ? { reason: hash.reason } : {}),
      ...(hash.status === CANCELLING ? { cancel: 'requested' as const } : {}),
    };
  }

  /** One order with its body hash, or undefined. */
  async get(orderId: string): Promise<StoredOrder | undefined> {
    const hash = await this.redis.hgetall(this.keys.order(orderId));
    const view = OrderStore.toView(orderId, hash);
    return view ? { view, bodyHash: hash.bodyHash } : undefined;
  }

  /** The views of many orders, in order (undefined for an absent one); pipelined. */
  async views(orderIds: readonly string[]): Promise<Array<OrderView | undefined>> {
    const hashes = await this.many(orderIds, (pipeline, id) => pipeline.hgetall(this.keys.order(id)));
    return hashes.map((hash, i) => OrderStore.toView(orderIds[i], hash as Record<string, string>));
  }

  /**
   * The stored status of many orders, in order (undefined for an absent one); pipelined. Unlike a
   * view's, a cancellation under way shows as {@link CANCELLING}: its work is not done.
   */
  async statuses(orderIds: readonly string[]): Promise<Array<StoredStatus | undefined>> {
    const replies = await this.many(orderIds, (pipeline, id) => pipeline.hget(this.keys.order(id), 'status'));
    return replies.map((status) => (status === null ? undefined : (status as StoredStatus)));
  }

  /** Summaries of the orders that still exist, in order; pipelined. */
  async summaries(orderIds: readonly string[]): Promise<OrderSummary[]> {
    const replies = await this.many(orderIds, (pipeline, id) =>
      pipeline.hmget(this.keys.order(id), 'status', 'attempts', 'reason', 'updatedAt'),
    );
    const out: OrderSummary[] = [];
    replies.forEach((value, i) => {
      const [status, attempts, reason, updatedAt] = value as Array<string | null>;
      // Expired between the listing and the read: gone.
      if (status === null) return;
      out.push({ orderId: orderIds[i], status: apiStatus(status as StoredStatus), attempts: Number(attempts ?? 0), reason, updatedAt });
    });
    return out;
  }

  /** The stock of many SKUs, in order (undefined for one never stocked); pipelined. */
  async stock(skus: readonly string[]): Promise<Array<StockLevel | undefined>> {
    const replies = await this.many(skus, (pipeline, sku) => pipeline.hmget(this.keys.stock(sku), 'available', 'reserved'));
    return replies.map((value) => {
      const [available, reserved] = value as Array<string | null>;
      return available === null ? undefined : { available: Number(available), reserved: Number(reserved ?? 0) };
    });
  }

  /** Stocked SKUs in lexical order, `limit` per page, starting after `cursor` (a SKU). */
  async stockPage(limit: number, cursor?: string): Promise<{ items: Array<{ sku: string } & StockLevel>; nextCursor: string | null }> {
    const start = cursor === undefined ? '-' : `(${cursor}`;
    const skus = await this.redis.zrangebylex(this.keys.skuIndex, start, '+', 'LIMIT', 0, limit);
    const levels = await this.stock(skus);
    const items = skus.map((sku, i) => ({ sku, available: levels[i]?.available ?? 0, reserved: levels[i]?.reserved ?? 0 }));
    return { items, nextCursor: skus.length === limit ? skus[skus.length - 1] : null };
  }

  /** One SCAN step over the order hashes: the ids found and the next cursor (`"0"` when done). */
  async scanIds(cursor: string, count: number): Promise<{ ids: string[]; cursor: string }> {
    const prefix = this.keys.order('');
    const [next, keys] = await this.redis.scan(cursor, 'MATCH', this.keys.order('*'), 'COUNT', count);
    return { ids: keys.map((key) => key.slice(prefix.length)), cursor: next };
  }

  /**
   * SCANs the order hashes, handing each batch of ids to `each`, until done or `limit` ids were
   * seen; says how many it saw and whether it got to the end.
   */
  async forEachId(limit: number, each: (ids: string[]) => Promise<void> | void): Promise<{ seen: number; complete: boolean }> {
    let cursor = '0';
    let seen = 0;
    do {
      const step = await this.scanIds(cursor, BATCH);
      cursor = step.cursor;
      seen += step.ids.length;
      if (step.ids.length > 0) await each(step.ids);
    } while (cursor !== '0' && seen < limit);
    return { seen, complete: cursor === '0' };
  }

  /** Every stored order id (a Set: SCAN may return a key twice while the keyspace grows). */
  async allIds(): Promise<string[]> {
    const ids = new Set<string>();
    await this.forEachId(Infinity, (found) => found.forEach((id) => ids.add(id)));
    return [...ids];
  }

  /** Runs `command` for each of `items` in pipelines of {@link BATCH}; the replies in order, or the first error. */
  private async many<T>(items: readonly T[], command: (pipeline: ReturnType<Redis['pipeline']>, item: T) => unknown): Promise<unknown[]> {
    const out: unknown[] = [];
    for (let i = 0; i < items.length; i += BATCH) {
      const pipeline = this.redis.pipeline();
      for (const item of items.slice(i, i + BATCH)) command(pipeline, item);
      for (const [error, value] of (await pipeline.exec()) ?? []) {
        if (error) throw error;
        out.push(value);
      }
    }
    return out;
  }
}
