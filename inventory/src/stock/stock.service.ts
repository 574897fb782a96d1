import { Inject, Injectable } from '@nestjs/common';
import { RedisKeys } from '@eo/contract';
import { NotAcknowledgedError } from '@eo/exactly-once';
import { COMMANDS, RedisUnavailableException } from '@eo/platform';
import { StockScripts } from './stock.scripts';
import type { Redis } from 'ioredis';

/** One SKU's stock. */
export interface StockView {
  sku: string;
  available: number;
  reserved: number;
}

/** A page of the stock listing; `nextCursor` is null on the last page. */
export interface StockPage {
  items: StockView[];
  nextCursor: string | null;
}

/** Reads and sets stock. Reservations never go through here: only `reserve-stock.lua` moves stock. */
@Injectable()
export class StockService {
  constructor(
    @Inject(COMMANDS) private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly scripts: StockScripts,
  ) {}

  /**
   * Sets `available` (keeping `reserved`), creating the SKU if new. Answers once the replicas that
   * `REDIS_WAIT_REPLICAS` asks for hold the value; 503 if they did not confirm it in time.
   */
  async set(sku: string, available: number): Promise<StockView> {
    try {
      return { sku, ...(await this.scripts.setStock(sku, available)) };
    } catch (error) {
      if (!(error instanceof NotAcknowledgedError)) throw error;
      throw new RedisUnavailableException(
        'Redis replicas did not confirm the stock level in time; it may be set or may be lost in a failover. Setting it again is safe.',
      );
    }
  }

  /** The SKU's stock, or undefined if it was never stocked. */
  async get(sku: string): Promise<StockView | undefined> {
    const [available, reserved] = await this.redis.hmget(this.keys.stock(sku), 'available', 'reserved');
    if (available === null) return undefined;
    return { sku, available: Number(available), reserved: Number(reserved ?? 0) };
  }

  /** SKUs in lexical order, `limit` per page, starting after `cursor`. */
  async list(limit: number, cursor?: string): Promise<StockPage> {
    const start = cursor === undefined ? '-' : `(${cursor}`;
    const skus = await this.redis.zrangebylex(this.keys.skuIndex, start, '+', 'LIMIT', 0, limit);
    const pipeline = this.redis.pipeline();
    for (const sku of skus) pipeline.hmget(this.keys.stock(sku), 'available', 'reserved');
    const replies = (await pipeline.exec()) ?? [];
    const items = skus.map((sku, i) => {
      const [err, value] = replies[i] ?? [null, null];
      if (err) throw err;
      const [available, reserved] = (value as (string | null)[] | null) ?? [];
      return { sku, available: Number(available ?? 0), reserved: Number(reserved ?? 0) };
    });
    return { items, nextCursor: skus.length === limit ? skus[skus.length - 1] : null };
  }
}
