import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { parseStoredItems, RedisKeys, type OrderItem } from '@eo/contract';
import {
  type Attempt as EngineAttempt,
  type ClaimResult as EngineClaim,
  type Durability,
  type DueBatch,
  ScriptClient,
  WorkQueue,
} from '@eo/exactly-once';
import { type ReleaseResult, type ReserveResult, StockScripts } from '@eo/inventory/scripts';
import { type AcceptInput, type AcceptResult, type CancelResult, OrderScripts, type RetryResult } from '@eo/order/scripts';
import { DEFAULT_ORDER_RETENTION_MS } from '@eo/platform';

/** One attempt on one order, as the tests name it. */
export interface Attempt {
  orderId: string;
  token: string;
  replica: string;
}

/** A won claim with the order's items decoded; the other outcomes as the engine gives them. */
export type ClaimResult =
  | { code: 'claimed'; attempt: number; items: OrderItem[]; createdAt: string; trace: Record<string, string> | undefined }
  | Exclude<EngineClaim, { code: 'claimed' }>;

/**
 * Every script of an order's life driven by hand, without a consumer: the order service's accept
 * and retry, the engine's claim, lease, release, failure and sweep, the inventory's reservation and
 * stock. For tests of the scripts themselves and of what reads their results.
 */
export class OrderLifecycleScripts {
  readonly client: ScriptClient;
  readonly queue: WorkQueue;
  readonly order: OrderScripts;
  readonly stock: StockScripts;

  constructor(redis: Redis, keys: RedisKeys, options: { durability?: Durability; retentionMs?: number } = {}) {
    const retentionMs = options.retentionMs ?? DEFAULT_ORDER_RETENTION_MS;
    this.client = new ScriptClient(redis, options.durability ? { durability: options.durability } : {});
    this.queue = new WorkQueue(this.client, keys, retentionMs);
    this.order = new OrderScripts(this.client, keys, retentionMs);
    this.stock = new StockScripts(this.client, keys);
  }

  accept(input: AcceptInput): Promise<AcceptResult> {
    return this.order.accept(input);
  }

  /** An operator's retry; a fresh token unless `token` says which request this re-runs. */
  retry(orderId: string, envelope: string, recoveryGraceMs: number, now: string, token: string = randomUUID()): Promise<RetryResult> {
    return this.order.retry(orderId, envelope, recoveryGraceMs, now, token);
  }

  /** A client's cancellation; a fresh token unless `token` says which request this re-runs. */
  cancel(orderId: string, envelope: string, recoveryGraceMs: number, now: string, token: string = randomUUID()): Promise<CancelResult> {
    return this.order.cancel(orderId, envelope, recoveryGraceMs, now, 'test-client', token);
  }

  setStock(sku: string, available: number): Promise<{ available: number; reserved: number }> {
    return this.stock.setStock(sku, available);
  }

  /** Claims the order's work: its reservation (PENDING) or, with `status` CANCELLING, its release. */
  async claim(attempt: Attempt, lockTtlMs: number, maxAttempts: number, now: string, status = 'PENDING'): Promise<ClaimResult> {
    const claim = await this.queue.claim(engine(attempt), { lockTtlMs, work: [{ status, maxAttempts }], fields: ['items'], now });
    if (claim.code !== 'claimed') return claim;
    return {
      code: 'claimed',
      attempt: claim.attempt,
      items: parseStoredItems(claim.fields.items),
      createdAt: claim.createdAt,
      trace: claim.trace,
    };
  }

  extend(attempt: Attempt, lockTtlMs: number): Promise<boolean> {
    return this.queue.extend(engine(attempt), lockTtlMs);
  }

  release(attempt: Attempt, dueInMs: number): Promise<boolean> {
    return this.queue.release(engine(attempt), dueInMs);
  }

  /** The inventory's fenced commit of a claimed order. */
  commit(attempt: Attempt, items: OrderItem[], now: string): Promise<ReserveResult> {
    return this.stock.reserve(this.queue.fence(engine(attempt), 'PENDING', now), items);
  }

  /** The inventory's fenced release of a claimed cancellation (the order must be CANCELLING). */
  releaseStock(attempt: Attempt, items: OrderItem[], now: string): Promise<ReleaseResult> {
    return this.stock.release(this.queue.fence(engine(attempt), 'CANCELLING', now), items);
  }

  fail(attempt: Attempt, maxAttempts: number, backoffMs: number, now: string, error: string) {
    return this.queue.fail(engine(attempt), 'PENDING', { maxAttempts, backoffMs, now, error });
  }

  async due(limit: number): Promise<{ size: number; overdueMs: number; orderIds: string[] }> {
    const batch: DueBatch = await this.queue.due(limit);
    return { size: batch.size, overdueMs: batch.overdueMs, orderIds: batch.ids };
  }
}

function engine({ orderId, token, replica }: Attempt): EngineAttempt {
  return { id: orderId, token, worker: replica };
}
