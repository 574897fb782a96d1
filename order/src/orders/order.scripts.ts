import { join } from 'node:path';
import { RedisKeys, type OrderItem } from '@eo/contract';
import { ScriptClient, type ScriptSet, UnexpectedReplyError } from '@eo/exactly-once';
import { DEFAULT_ORDER_RETENTION_MS } from '@eo/platform';
import type { Result } from 'ioredis';

/** The order service's own scripts, beside `src/` and `dist/` in `order/lua/`. */
export const ORDER_SCRIPTS = {
  // The key count varies with the optional Idempotency-Key; the caller passes it first.
  eoAcceptOrder: { file: join(__dirname, '..', '..', 'lua', 'accept-order.lua') },
  eoRetryOrder: { file: join(__dirname, '..', '..', 'lua', 'retry-order.lua'), numberOfKeys: 3 },
  eoCancelOrder: { file: join(__dirname, '..', '..', 'lua', 'cancel-order.lua'), numberOfKeys: 2 },
} satisfies ScriptSet;

type Arg = string | number;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    eoAcceptOrder(numKeys: number, ...keysAndArgs: Arg[]): Result<string[], Context>;
    eoRetryOrder(...keysAndArgs: Arg[]): Result<string[], Context>;
    eoCancelOrder(...keysAndArgs: Arg[]): Result<string[], Context>;
  }
}

/** Outcome of `accept-order.lua`. */
export type AcceptResult =
  { code: 'created'; orderId: string } | { code: 'idempotent'; orderId: string } | { code: 'exists'; orderId: string; bodyHash: string };

/** Outcome of `retry-order.lua`. */
export type RetryResult = { code: 'retried' } | { code: 'not_failed'; status: string } | { code: 'not_found' };

/** Outcome of `cancel-order.lua`. */
export type CancelResult = { code: 'cancelled' } | { code: 'requested' } | { code: 'unchanged'; status: string } | { code: 'not_found' };

/** Input of accept-order. */
export interface AcceptInput {
  orderId: string;
  items: OrderItem[];
  bodyHash: string;
  createdAt: string;
  envelope: string;
  recoveryGraceMs: number;
  idempotencyKey?: string;
  idempotencyTtlSeconds: number;
  /** Trace propagation headers, stored so a recovery by the sweep joins the order's trace. */
  trace?: Record<string, string>;
}

/**
 * The order service's writes, as typed calls of its scripts: accepting an order and an operator's
 * retry of a FAILED one. Both are reported writes: with `REDIS_WAIT_REPLICAS` ≥ 1 they resolve once
 * confirmed and reject with `NotAcknowledgedError` otherwise; both are safe to run again.
 */
export class OrderScripts {
  constructor(
    private readonly client: ScriptClient,
    private readonly keys: RedisKeys,
    private readonly retentionMs: number = DEFAULT_ORDER_RETENTION_MS,
  ) {
    client.define(ORDER_SCRIPTS);
  }

  /** docs/design.md step 1: store, backlog, idempotency record and PUBLISH, atomically. */
  async accept(input: AcceptInput): Promise<AcceptResult> {
    const keys = [this.keys.order(input.orderId), this.keys.pending];
    if (input.idempotencyKey !== undefined) keys.push(this.keys.idempotency(input.idempotencyKey));
    return this.client.write(
      (redis) =>
        redis
          .eoAcceptOrder(
            keys.length,
            ...keys,
            input.orderId,
            JSON.stringify(input.items),
            input.bodyHash,
            input.createdAt,
            input.recoveryGraceMs,
            this.keys.orderUpdatesChannel,
            input.envelope,
            // A key never outlives its order: the order lives at least the retention after it is terminal.
            Math.min(input.idempotencyTtlSeconds * 1000, this.retentionMs),
            input.trace ? JSON.stringify(input.trace) : '',
            this.keys.order(''),
          )
          .then(parseAccept),
      { script: 'accept-order', batched: true },
    );
  }

  /**
   * An operator's retry of a FAILED order: PENDING again with its attempts reset, off orders:dead,
   * on the backlog (due after `recoveryGraceMs`) and published as `envelope`, atomically.
   */
  async retry(orderId: string, envelope: string, recoveryGraceMs: number, now: string, token: string): Promise<RetryResult> {
    return this.client.write(
      (redis) =>
        redis
          .eoRetryOrder(
            this.keys.order(orderId),
            this.keys.pending,
            this.keys.dead,
            orderId,
            now,
            recoveryGraceMs,
            this.keys.orderUpdatesChannel,
            envelope,
            token,
          )
          .then(parseRetry),
      { script: 'retry-order', batched: true },
    );
  }

  /**
   * A client's cancellation, atomically: a PENDING order CANCELLED at once (nothing reserved); a
   * RESERVED one CANCELLING, on the backlog and published as `envelope` for a replica to release.
   * A re-run with the same `token` (its reply was lost) answers what the first run did.
   */
  async cancel(orderId: string, envelope: string, recoveryGraceMs: number, now: string, by: string, token: string): Promise<CancelResult> {
    return this.client.write(
      (redis) =>
        redis
          .eoCancelOrder(
            this.keys.order(orderId),
            this.keys.pending,
            orderId,
            now,
            recoveryGraceMs,
            this.keys.orderUpdatesChannel,
            envelope,
            this.keys.orderStatusChannel,
            this.retentionMs,
            by,
            token,
          )
          .then(parseCancel),
      { script: 'cancel-order', batched: true },
    );
  }
}

function parseCancel(reply: string[]): CancelResult {
  switch (reply[0]) {
    case 'cancelled':
    case 'requested':
    case 'not_found':
      return { code: reply[0] };
    case 'unchanged':
      return { code: 'unchanged', status: String(reply[1]) };
    default:
      throw new UnexpectedReplyError('cancel-order', reply);
  }
}

function parseAccept(reply: string[]): AcceptResult {
  const [code, orderId, bodyHash] = reply;
  if (code === 'exists') return { code, orderId, bodyHash };
  if (code === 'created' || code === 'idempotent') return { code, orderId };
  throw new UnexpectedReplyError('accept-order', reply);
}

function parseRetry(reply: string[]): RetryResult {
  switch (reply[0]) {
    case 'retried':
    case 'not_found':
      return { code: reply[0] };
    case 'not_failed':
      return { code: 'not_failed', status: String(reply[1]) };
    default:
      throw new UnexpectedReplyError('retry-order', reply);
  }
}
