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
  eoReleaseStock: { file: join(__dirname, '..', '..', 'lua', 'release-stock.lua') },
  eoSetStock: { file: join(__dirname, '..', '..', 'lua', 'set-stock.lua'), numberOfKeys: 2 },
} satisfies ScriptSet;

type Arg = string | number;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    eoReserveStock(numKeys: number, ...keysAndArgs: Arg[]): Result<Array<string | number>, Context>;
    eoReleaseStock(numKeys: number, ...keysAndArgs: Arg[]): Result<Array<string | number>, Context>;
    eoSetStock(...keysAndArgs: Arg[]): Result<[number, number], Context>;
  }
}

/** Outcome of `reserve-stock.lua`. */
export type ReserveResult = { code: 'reserved'; attempts: number } | { code: 'rejected'; attempts: number; sku: string } | FenceRefusal;

/** Outcome of `release-stock.lua`. */
export type ReleaseResult = { code: 'released'; attempts: number } | FenceRefusal;

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
    case 'replayed':
      // Our reservation ran (only it wrote our token); a cancellation may have followed since.
      return result.status === OrderStatus.Rejected ? result : { ...result, status: OrderStatus.Reserved };
    default:
      return result;
  }
}

/** A release's outcome as the engine reports it: logged as `order.cancelled` with `released: true`. */
export function releaseCommitResult(result: ReleaseResult): CommitResult {
  switch (result.code) {
    case 'released':
      return {
        code: 'committed',
        status: OrderStatus.Cancelled,
        outcome: 'cancelled',
        attempts: result.attempts,
        detail: { released: true },
      };
    case 'replayed':
      // Only our release wrote our token, and CANCELLED never changes: the line still says what it released.
      return {
        code: 'committed',
        status: result.status,
        outcome: 'cancelled',
        attempts: result.attempts,
        detail: { released: true, replayed: true },
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

function parseRelease(reply: Array<string | number>): ReleaseResult {
  const refusal = parseFenceRefusal(reply);
  if (refusal) return refusal;
  if (reply[0] === 'released') return { code: 'released', attempts: Number(reply[1]) };
  throw new UnexpectedReplyError('release-stock', reply);
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

  /** Gives a cancelled order's reservation back, behind the fence (the order must be CANCELLING). */
  async release(fence: Fence, items: OrderItem[]): Promise<ReleaseResult> {
    const keys = [...fence.keys, ...distinctSkus(items).map((sku) => this.keys.stock(sku))];
    return this.client.write(
      (redis) => redis.eoReleaseStock(keys.length, ...keys, ...fence.args, this.keys.stockPrefix).then(parseRelease),
      {
        script: 'release-stock',
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
