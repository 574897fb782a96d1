import { join } from 'node:path';
import { OrderStatus, RedisKeys, type OrderItem } from '@eo/contract';
import {
  type CommitResult,
  type Fence,
  type FenceRefusal,
  parseFenceRefusal,
  ScriptClient,
  type ScriptSet,
  UnexpectedReplyError,
} from '@eo/exactly-once';
import { Injectable } from '@nestjs/common';
import type { Result } from 'ioredis';

/** The inventory's own scripts, beside `src/` and `dist/` in `inventory/lua/`. */
export const STOCK_SCRIPTS = {
  eoReserveStock: { file: join(__dirname, '..', '..', 'lua', 'reserve-stock.lua') },
  eoSetStock: { file: join(__dirname, '..', '..', 'lua', 'set-stock.lua'), numberOfKeys: 2 },
} satisfies ScriptSet;

type Arg = string | number;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    eoReserveStock(numKeys: number, ...keysAndArgs: Arg[]): Result<Array<string | number>, Context>;
    eoSetStock(...keysAndArgs: Arg[]): Result<[number, number], Context>;
  }
}

/** Outcome of `reserve-stock.lua`. */
export type ReserveResult = { code: 'reserved'; attempts: number } | { code: 'rejected'; attempts: number; sku: string } | FenceRefusal;

/** A reservation's outcome as the engine reports it (the log line's `outcome`, and `sku` when rejected). */
export function toCommitResult(result: ReserveResult): CommitResult {
  switch (result.code) {
    case 'reserved':
      return { code: 'committed', status: OrderStatus.Reserved, outcome: 'reserved', attempts: result.attempts };
    case 'rejected':
      return {
        code: 'committed',
        status: OrderStatus.Rejected,
        outcome: 'rejected',
        attempts: result.attempts,
        detail: { sku: result.sku },
      };
    default:
      return result;
  }
}

function parseReserve(reply: Array<string | number>): ReserveResult {
  const refusal = parseFenceRefusal(reply);
  if (refusal) return refusal;
  if (reply[0] === 'reserved') return { code: 'reserved', attempts: Number(reply[1]) };
  if (reply[0] === 'rejected') return { code: 'rejected', attempts: Number(reply[1]), sku: String(reply[2]) };
  throw new UnexpectedReplyError('reserve-stock', reply);
}

function distinctSkus(items: OrderItem[]): string[] {
  return [...new Set(items.map((item) => item.sku))];
}

/**
 * The inventory's effects on stock, as typed calls of its scripts: the fenced reservation of an
 * order, and setting a SKU's stock. Both are reported writes: with `REDIS_WAIT_REPLICAS` ≥ 1 they
 * resolve once confirmed and reject with `NotAcknowledgedError` otherwise; both are safe to re-run.
 */
@Injectable()
export class StockScripts {
  constructor(
    private readonly client: ScriptClient,
    private readonly keys: RedisKeys,
  ) {
    client.define(STOCK_SCRIPTS);
  }

  /** docs/design.md step 4: reserve every item or none, behind the fence. `items` are the claimed order's. */
  async reserve(fence: Fence, items: OrderItem[]): Promise<ReserveResult> {
    const keys = [...fence.keys, ...distinctSkus(items).map((sku) => this.keys.stock(sku))];
    // Parsed inside the write: an unconfirmed one carries the parsed result in its NotAcknowledgedError.
    return this.client.write(
      (redis) => redis.eoReserveStock(keys.length, ...keys, ...fence.args, this.keys.stockPrefix).then(parseReserve),
      {
        script: 'reserve-stock',
        batched: true,
      },
    );
  }

  /** Sets a SKU's available stock (keeps `reserved`) and indexes it. */
  async setStock(sku: string, available: number): Promise<{ available: number; reserved: number }> {
    return this.client.write(
      (redis) =>
        redis.eoSetStock(this.keys.stock(sku), this.keys.skuIndex, available, sku).then(([a, r]) => ({ available: a, reserved: r })),
      { script: 'set-stock' },
    );
  }
}
