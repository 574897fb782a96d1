import { Injectable } from '@nestjs/common';
import { OrderStore } from '@eo/contract';
import { NotAcknowledgedError } from '@eo/exactly-once';
import { RedisUnavailableException } from '@eo/platform';
import { StockScripts } from './stock.scripts';

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
    private readonly store: OrderStore,
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
    const [level] = await this.store.stock([sku]);
    return level && { sku, ...level };
  }

  /** SKUs in lexical order, `limit` per page, starting after `cursor`. */
  list(limit: number, cursor?: string): Promise<StockPage> {
    return this.store.stockPage(limit, cursor);
  }
}
