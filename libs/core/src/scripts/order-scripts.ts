import type { Redis } from 'ioredis';
import { traceScript } from '../observability/tracing';
import { DEFAULT_ORDER_RETENTION_MS } from '../config/env';
import type { OrderItem } from '../envelope';
import type { RedisKeys } from '../redis/keys';
import { ReplicationAcks } from '../redis/replication-acks';
import { TurnWrites } from '../redis/turn-writes';
import { registerScripts } from './registry';

/** Outcome of accept-order. */
export type AcceptResult =
  { code: 'created'; orderId: string } | { code: 'idempotent'; orderId: string } | { code: 'exists'; orderId: string; bodyHash: string };

/** Outcome of claim-order. */
export type ClaimResult =
  | { code: 'claimed'; attempt: number; items: OrderItem[]; createdAt: string; trace: Record<string, string> | undefined }
  | { code: 'locked' }
  | { code: 'already_processed'; status: string }
  | { code: 'not_found' }
  | { code: 'exhausted'; attempts: number };

/** Outcome of commit-order. */
export type CommitResult =
  | { code: 'reserved'; attempts: number }
  | { code: 'rejected'; attempts: number; sku: string }
  | { code: 'replayed'; status: string; attempts: number }
  | { code: 'lease_lost'; status: string }
  | { code: 'already_processed'; status: string }
  | { code: 'not_found' };

/** Outcome of retry-order. */
export type RetryResult = { code: 'retried' } | { code: 'not_failed'; status: string } | { code: 'not_found' };

/** Outcome of fail-attempt. */
export type FailResult =
  | { code: 'retry'; attempts: number }
  | { code: 'failed'; attempts: number }
  | { code: 'lease_lost'; status: string }
  | { code: 'already_processed'; status: string };

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

/** What the sweep sees of the backlog: its size, how overdue the oldest entry is, the due ids. */
export interface DueOrders {
  size: number;
  overdueMs: number;
  orderIds: string[];
}

/** Identity of one processing attempt: the order, the attempt's random lock token, who runs it. */
export interface Attempt {
  orderId: string;
  token: string;
  replica: string;
}

/**
 * Where the scripts whose outcome is reported (accept, commit, fail, set-stock) run, and how many
 * replicas must confirm them (`WAIT`) before they count. Without it, they run on the commands
 * connection and count once the master answered.
 */
export interface Durability {
  /** A connection of its own: a blocked WAIT must not hold up the claims and reads behind it. */
  writes: Redis;
  replicas: number;
  timeoutMs: number;
}

/** What an {@link OrderScripts} is built with besides its connection and keys. */
export interface OrderScriptsOptions {
  durability?: Durability;
  /** How long an order is kept once terminal (`ORDER_RETENTION_MS`); PENDING orders never expire. */
  retentionMs?: number;
}

function distinctSkus(items: OrderItem[]): string[] {
  return [...new Set(items.map((item) => item.sku))];
}

/**
 * Typed calls of the Lua scripts in `lua/`: builds KEYS from {@link RedisKeys} and maps each
 * script's reply to a discriminated union. The only module that knows the scripts' argument order.
 *
 * With {@link Durability} of n ≥ 1 replicas, accept, commit, fail and setStock resolve only once n
 * replicas confirmed them, and reject with `NotAcknowledgedError` (carrying the reply) otherwise;
 * each of them is safe to run again with the same arguments.
 */
export class OrderScripts {
  /** The per-order calls (accept, claim, commit) of one turn share a socket write. */
  private readonly writes: TurnWrites;
  /** Connection of the reported writes: `redis`, or the durable one. */
  private readonly durable: Redis;
  private readonly durableWrites: TurnWrites;
  /** Confirms reported writes (`WAIT`); a pass-through with 0 replicas. */
  readonly acks: ReplicationAcks;
  private readonly retentionMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    { durability, retentionMs = DEFAULT_ORDER_RETENTION_MS }: OrderScriptsOptions = {},
  ) {
    this.retentionMs = retentionMs;
    registerScripts(redis);
    this.writes = new TurnWrites(redis);
    this.durable = durability?.writes ?? redis;
    this.durableWrites = this.durable === redis ? this.writes : new TurnWrites(registerScripts(this.durable));
    this.acks = new ReplicationAcks(this.durable, durability?.replicas ?? 0, durability?.timeoutMs ?? 0);
  }

  /** Design step 1 (docs/design.md): store, backlog, idempotency record and PUBLISH, atomically. */
  async accept(input: AcceptInput): Promise<AcceptResult> {
    const keys = [this.keys.order(input.orderId), this.keys.pending];
    if (input.idempotencyKey !== undefined) keys.push(this.keys.idempotency(input.idempotencyKey));
    return this.acks.write(async () => {
      this.durableWrites.hold();
      const reply = await traceScript('accept-order', () =>
        this.durable.eoAcceptOrder(
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
        ),
      );
      return parseAccept(reply);
    });
  }

  /**
   * Design step 2: SET lock NX PX for a PENDING order, counting the attempt. Not traced here: most
   * claims are lost, and the consumer records a won one into its processing span afterwards.
   */
  async claim(attempt: Attempt, lockTtlMs: number, maxAttempts: number, now: string): Promise<ClaimResult> {
    const { orderId, token } = attempt;
    this.writes.hold();
    const reply = await this.redis.eoClaimOrder(
      this.keys.lock(orderId),
      this.keys.order(orderId),
      this.keys.pending,
      this.keys.dead,
      token,
      lockTtlMs,
      orderId,
      maxAttempts,
      attempt.replica,
      now,
      this.keys.orderStatusChannel,
      this.retentionMs,
    );
    switch (reply[0]) {
      case 'claimed':
        return {
          code: 'claimed',
          attempt: Number(reply[1]),
          items: JSON.parse(String(reply[2])) as OrderItem[],
          createdAt: String(reply[3]),
          trace: reply[4] ? (JSON.parse(String(reply[4])) as Record<string, string>) : undefined,
        };
      case 'locked':
        return { code: 'locked' };
      case 'not_found':
        return { code: 'not_found' };
      case 'already_processed':
        return { code: 'already_processed', status: String(reply[1]) };
      case 'exhausted':
        return { code: 'exhausted', attempts: Number(reply[1]) };
      default:
        throw new Error(`claim-order: unexpected reply ${JSON.stringify(reply)}`);
    }
  }

  /** Watchdog renewal: compare-and-PEXPIRE. Resolves false when the lock is no longer ours. */
  async extend(attempt: Attempt, lockTtlMs: number): Promise<boolean> {
    const { orderId, token } = attempt;
    return (
      (await traceScript('extend-lock', () =>
        this.redis.eoExtendLock(this.keys.lock(orderId), this.keys.pending, token, lockTtlMs, orderId),
      )) === 1
    );
  }

  /** Compare-and-delete release; the order becomes due again after `dueInMs`. */
  async release(attempt: Attempt, dueInMs: number): Promise<boolean> {
    const { orderId, token } = attempt;
    return (
      (await traceScript('release-lock', () =>
        this.redis.eoReleaseLock(this.keys.lock(orderId), this.keys.pending, token, orderId, dueInMs),
      )) === 1
    );
  }

  /** Design step 4: the fenced, all-or-nothing commit. `items` must be the ones the claim returned. */
  async commit(attempt: Attempt, items: OrderItem[], now: string): Promise<CommitResult> {
    const { orderId, token } = attempt;
    const keys = [
      this.keys.order(orderId),
      this.keys.lock(orderId),
      this.keys.pending,
      ...distinctSkus(items).map((sku) => this.keys.stock(sku)),
    ];
    return this.acks.write(async () => {
      this.durableWrites.hold();
      const reply = await traceScript('commit-order', () =>
        this.durable.eoCommitOrder(
          keys.length,
          ...keys,
          token,
          attempt.replica,
          now,
          this.keys.stockPrefix,
          this.keys.orderStatusChannel,
          orderId,
          this.retentionMs,
        ),
      );
      return parseCommit(reply);
    });
  }

  /** Records a failed attempt: retry after `backoffMs`, or FAILED once `maxAttempts` are used. */
  async fail(attempt: Attempt, maxAttempts: number, backoffMs: number, now: string, error: string): Promise<FailResult> {
    const { orderId, token } = attempt;
    return this.acks.write(async () => {
      const reply = await traceScript('fail-attempt', () =>
        this.durable.eoFailAttempt(
          this.keys.order(orderId),
          this.keys.lock(orderId),
          this.keys.pending,
          this.keys.dead,
          token,
          orderId,
          maxAttempts,
          backoffMs,
          now,
          error,
          attempt.replica,
          this.keys.orderStatusChannel,
          this.retentionMs,
        ),
      );
      return parseFail(reply);
    });
  }

  /**
   * Ids on the backlog that are due now (by Redis's clock), at most `limit`, with the backlog's size
   * and lag; drops the `orders:dead` entries whose orders have expired.
   */
  async due(limit: number): Promise<DueOrders> {
    const [size, overdueMs, ...orderIds] = await traceScript('due-orders', () =>
      this.redis.eoDueOrders(this.keys.pending, this.keys.dead, limit, this.retentionMs),
    );
    return { size: Number(size), overdueMs: Number(overdueMs), orderIds: orderIds.map(String) };
  }

  /**
   * An operator's retry of a FAILED order: PENDING again with its attempts reset, off orders:dead,
   * on the backlog (due after `recoveryGraceMs`) and published as `envelope`, atomically.
   */
  async retry(orderId: string, envelope: string, recoveryGraceMs: number, now: string): Promise<RetryResult> {
    return this.acks.write(async () => {
      this.durableWrites.hold();
      const reply = await traceScript('retry-order', () =>
        this.durable.eoRetryOrder(
          this.keys.order(orderId),
          this.keys.pending,
          this.keys.dead,
          orderId,
          now,
          recoveryGraceMs,
          this.keys.orderUpdatesChannel,
          envelope,
        ),
      );
      switch (reply[0]) {
        case 'retried':
        case 'not_found':
          return { code: reply[0] };
        case 'not_failed':
          return { code: 'not_failed', status: String(reply[1]) };
        default:
          throw new Error(`retry-order: unexpected reply ${JSON.stringify(reply)}`);
      }
    });
  }

  /** Sets a SKU's available stock (keeps `reserved`) and indexes it. */
  async setStock(sku: string, available: number): Promise<{ available: number; reserved: number }> {
    const [a, r] = await this.acks.write(() =>
      traceScript('set-stock', () => this.durable.eoSetStock(this.keys.stock(sku), this.keys.skuIndex, available, sku)),
    );
    return { available: a, reserved: r };
  }
}

function parseAccept(reply: string[]): AcceptResult {
  const [code, orderId, bodyHash] = reply;
  if (code === 'exists') return { code, orderId: orderId, bodyHash: bodyHash };
  if (code === 'created' || code === 'idempotent') return { code, orderId: orderId };
  throw new Error(`accept-order: unexpected reply ${JSON.stringify(reply)}`);
}

function parseCommit(reply: Array<string | number>): CommitResult {
  switch (reply[0]) {
    case 'reserved':
      return { code: 'reserved', attempts: Number(reply[1]) };
    case 'rejected':
      return { code: 'rejected', attempts: Number(reply[1]), sku: String(reply[2]) };
    case 'replayed':
      return { code: 'replayed', status: String(reply[1]), attempts: Number(reply[2]) };
    case 'lease_lost':
      return { code: 'lease_lost', status: String(reply[1]) };
    case 'already_processed':
      return { code: 'already_processed', status: String(reply[1]) };
    case 'not_found':
      return { code: 'not_found' };
    default:
      throw new Error(`commit-order: unexpected reply ${JSON.stringify(reply)}`);
  }
}

function parseFail(reply: Array<string | number>): FailResult {
  switch (reply[0]) {
    case 'retry':
    case 'failed':
      return { code: reply[0], attempts: Number(reply[1]) };
    case 'lease_lost':
    case 'already_processed':
      return { code: reply[0], status: String(reply[1]) };
    default:
      throw new Error(`fail-attempt: unexpected reply ${JSON.stringify(reply)}`);
  }
}
