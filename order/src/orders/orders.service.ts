import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpStatus, Inject, Injectable, NotFoundException, type OnModuleDestroy } from '@nestjs/common';
import {
  CANCELLING,
  LogEvent,
  MessageType,
  Metric,
  OrderStatus,
  OrderStore,
  buildEnvelope,
  isTerminal,
  type StoredOrder,
} from '@eo/contract';
import { NotAcknowledgedError, type Metrics } from '@eo/exactly-once';
import { FieldValidationException, LOGGER, METRICS, RedisUnavailableException, type Logger } from '@eo/platform';
import { OrderScripts, type CancelResult } from './order.scripts';
import type { AcceptedOrder, OrderView, PlaceOrderRequest } from './order.dto';
import { OrderStatusWatcher } from './order-status.watcher';
import { TracePropagator } from './trace-propagator';

/** Injection token of {@link OrdersSettings}. */
export const ORDERS_SETTINGS = Symbol('ORDERS_SETTINGS');

/** How accepted orders are recorded (from `RECOVERY_GRACE_MS`, `IDEMPOTENCY_TTL_SECONDS`, `ORDER_RETENTION_MS` and `REPLICA_NAME`). */
export interface OrdersSettings {
  recoveryGraceMs: number;
  idempotencyTtlSeconds: number;
  retentionMs: number;
  /** This instance's name: the `processedBy` of an order it cancels before any replica processed it. */
  replica: string;
}

/** What `POST /orders` answers: 202 for a new order, 200 with the stored order for a replay. */
export type PlaceOrderOutcome = { status: HttpStatus.ACCEPTED; body: AcceptedOrder } | { status: HttpStatus.OK; body: OrderView };

/** The 202 answer to a cancellation of a RESERVED order: its reservation is being given back. */
export interface CancelRequested {
  orderId: string;
  status: typeof OrderStatus.Reserved;
  cancel: 'requested';
}

/** What `POST /orders/:id/cancel` answers: 202 when a release is now under way, else 200 with the order. */
export type CancelOutcome = { status: HttpStatus.ACCEPTED; body: CancelRequested } | { status: HttpStatus.OK; body: OrderView };

/** Message of the 503 a POST gets when Redis fails; the client's safe move is the same request again. */
export const ACCEPT_UNAVAILABLE = 'Redis is unavailable; the order was not accepted. Retry with the same Idempotency-Key.';
/** Message of the 503 a POST gets when its write ran but too few replicas confirmed it (`REDIS_WAIT_REPLICAS`). */
export const ACCEPT_UNCONFIRMED =
  'Redis replicas did not confirm the order in time; it may exist or may be lost in a failover. Retry with the same Idempotency-Key or orderId: that is safe.';
/** Message of the 503 for any other write the replicas did not confirm in time. */
const UNCONFIRMED =
  'Redis replicas did not confirm the change in time; it may have been made or may be lost in a failover. Repeating the request is safe.';
/** Message of the 503 a cancellation gets when Redis fails before the cancel script is sent. */
const CANCEL_UNAVAILABLE = 'Redis is unavailable; the order was not cancelled. Repeating the request is safe.';
/** Message of the 503 when the cancel script's call kept failing for {@link RERUN_MS}: it may have run. */
const CANCEL_UNKNOWN =
  'Redis is unavailable; the cancellation may or may not have been made (GET /orders/:id tells). Repeating the request is safe.';
/** Message of the 503 a read gets when Redis fails. */
export const READ_UNAVAILABLE = 'Redis is unavailable; the order could not be read. Retry later.';

/** The 404 of a path whose `:id` names no order. */
export function notFound(orderId: string): NotFoundException {
  return new NotFoundException({
    statusCode: HttpStatus.NOT_FOUND,
    error: 'Not Found',
    message: `id ${orderId} names no order`,
    field: 'id',
  });
}

function conflict(field: string, message: string): FieldValidationException {
  return new FieldValidationException({ field, message }, HttpStatus.CONFLICT);
}

/**
 * Identifies a request's content so a replay (same key or same orderId) can be told from a
 * conflicting reuse. Covers what the client chose, not what the server filled in.
 */
export function hashOrderBody(request: PlaceOrderRequest): string {
  const canonical = JSON.stringify({ orderId: request.orderId ?? null, items: request.items });
  return createHash('sha256').update(canonical).digest('hex');
}

/** Accepts orders (design step 1, docs/design.md) and reads them back, optionally waiting for a terminal status. */
@Injectable()
export class OrdersService implements OnModuleDestroy {
  /** Set at shutdown: a cancellation stops re-running its script. */
  private closing = false;

  constructor(
    private readonly scripts: OrderScripts,
    private readonly store: OrderStore,
    private readonly watcher: OrderStatusWatcher,
    private readonly trace: TracePropagator,
    @Inject(ORDERS_SETTINGS) private readonly settings: OrdersSettings,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS) private readonly metrics: Metrics,
  ) {}

  onModuleDestroy(): void {
    this.closing = true;
  }

  /**
   * Stores, backlogs and publishes a new order in one script, or recognises a replay. Answers only
   * after the script's reply: a 202 means the order is durable in Redis and on the backlog.
   */
  async place(request: PlaceOrderRequest, idempotencyKey: string | undefined): Promise<PlaceOrderOutcome> {
    const orderId = request.orderId ?? randomUUID();
    const bodyHash = hashOrderBody(request);
    const createdAt = new Date().toISOString();
    const trace = this.trace.headers();
    const envelope = buildEnvelope(orderId, request.items, createdAt, trace);
    const result = await this.redisCall('accept', ACCEPT_UNAVAILABLE, () =>
      this.scripts.accept({
        orderId,
        items: request.items,
        bodyHash,
        createdAt,
        envelope: JSON.stringify(envelope),
        recoveryGraceMs: this.settings.recoveryGraceMs,
        idempotencyKey,
        idempotencyTtlSeconds: this.settings.idempotencyTtlSeconds,
        trace,
      }),
    );
    switch (result.code) {
      case 'created':
        this.metrics.increment(Metric.Accepted);
        this.logger.info({ event: LogEvent.OrderAccepted, orderId, items: request.items.length }, 'order accepted');
        return { status: HttpStatus.ACCEPTED, body: { orderId, status: OrderStatus.Pending } };
      case 'idempotent': {
        const stored = await this.readStored(result.orderId, ACCEPT_UNAVAILABLE);
        if (stored?.bodyHash !== bodyHash) {
          throw conflict('Idempotency-Key', `was already used for order ${result.orderId} with a different body`);
        }
        return { status: HttpStatus.OK, body: stored.view };
      }
      case 'exists': {
        const stored = result.bodyHash === bodyHash ? await this.readStored(orderId, ACCEPT_UNAVAILABLE) : undefined;
        if (!stored) throw conflict('orderId', `${orderId} already names an order with a different body`);
        return { status: HttpStatus.OK, body: stored.view };
      }
    }
  }

  /** The order now; 404 when there is none. */
  async find(orderId: string): Promise<OrderView> {
    const stored = await this.readStored(orderId, READ_UNAVAILABLE);
    if (!stored) throw notFound(orderId);
    return stored.view;
  }

  /**
   * Cancels an order in one script (docs/design.md, "Cancellation"): a PENDING one is CANCELLED at
   * once with nothing reserved; a RESERVED one has its release recorded, backlogged and published
   * as an OrderCancelled for a replica to apply. A repeat answers 200 with the order as it is; a
   * REJECTED or FAILED order has nothing to cancel (409). A failed call is re-run with the same
   * token ({@link untilAnswered}): the first run may have been applied with its reply lost.
   */
  async cancel(orderId: string, idempotencyKey: string | undefined): Promise<CancelOutcome> {
    const stored = await this.readStored(orderId, CANCEL_UNAVAILABLE);
    if (!stored) throw notFound(orderId);
    const { items, createdAt } = stored.view;
    const envelope = buildEnvelope(orderId, items, createdAt, this.trace.headers(), MessageType.OrderCancelled);
    const now = new Date().toISOString();
    const token = randomUUID();
    const result = await this.redisCall(
      'cancel',
      CANCEL_UNKNOWN,
      () =>
        untilAnswered(
          this.logger,
          {
            operation: 'cancel',
            orderId,
            stop: () => this.closing,
            late: (late, confirmed) => this.cancelAnswered(orderId, idempotencyKey, late, confirmed),
          },
          () => this.scripts.cancel(orderId, JSON.stringify(envelope), this.settings.recoveryGraceMs, now, this.settings.replica, token),
        ),
      // Written but not confirmed by the replicas: the cancellation stands unless a failover loses it, so it is logged.
      (written) => {
        if (written.code === 'cancelled') this.cancelled(orderId, idempotencyKey, false);
      },
    );
    this.cancelAnswered(orderId, idempotencyKey, result, true);
    switch (result.code) {
      case 'cancelled':
        return { status: HttpStatus.OK, body: await this.find(orderId) };
      case 'requested':
        return { status: HttpStatus.ACCEPTED, body: { orderId, status: OrderStatus.Reserved, cancel: 'requested' } };
      case 'unchanged':
        if (result.status === CANCELLING || result.status === OrderStatus.Cancelled)
          return { status: HttpStatus.OK, body: await this.find(orderId) };
        throw conflict('id', `order ${orderId} is ${result.status}: only a PENDING or RESERVED order can be cancelled`);
      case 'not_found':
        throw notFound(orderId);
    }
  }

  /** Logs what a cancel script did: the order cancelled here, or its release requested. */
  private cancelAnswered(orderId: string, idempotencyKey: string | undefined, result: CancelResult, confirmed: boolean): void {
    if (result.code === 'cancelled') this.cancelled(orderId, idempotencyKey, confirmed);
    else if (result.code === 'requested')
      this.logger.info(
        { event: LogEvent.OrderCancelRequested, orderId, idempotencyKey, ...(confirmed ? {} : { confirmed }) },
        'cancellation requested; a replica releases the stock',
      );
  }

  /** The one `order.cancelled` of an order cancelled before any replica processed it: nothing was reserved. */
  private cancelled(orderId: string, idempotencyKey: string | undefined, confirmed: boolean): void {
    this.metrics.increment(Metric.Cancelled, { outcome: 'cancelled', released: 'false' });
    this.logger.info(
      {
        event: LogEvent.OrderCancelled,
        orderId,
        outcome: 'cancelled',
        released: false,
        processedBy: this.settings.replica,
        idempotencyKey,
        ...(confirmed ? {} : { confirmed }),
      },
      'order cancelled before processing; nothing was reserved',
    );
  }

  /**
   * The order once it is terminal, or as it is after `waitMs`. Woken by the `order_status` event,
   * so it answers as soon as a replica commits; every wake-up re-reads Redis, which stays the truth.
   */
  async waitForTerminal(orderId: string, waitMs: number): Promise<OrderView> {
    if (waitMs <= 0) return this.find(orderId);
    const deadline = Date.now() + waitMs;
    for (;;) {
      // Registered before the read: a commit landing between the read and the wait still wakes us.
      const watch = this.watcher.watch(orderId, deadline - Date.now());
      try {
        const view = await this.find(orderId);
        // A RESERVED order whose cancellation is under way is still moving: it wakes on CANCELLED.
        if ((isTerminal(view.status) && view.cancel === undefined) || Date.now() >= deadline) return view;
        // After a timeout or on shutdown, one last read covers an event lost in a reconnect.
        if ((await watch.woken) !== 'changed') return await this.find(orderId);
      } finally {
        watch.cancel();
      }
    }
  }

  private async readStored(orderId: string, unavailable: string): Promise<StoredOrder | undefined> {
    return this.redisCall('read', unavailable, () => this.store.get(orderId));
  }

  private redisCall<T>(operation: string, unavailable: string, call: () => Promise<T>, unconfirmed?: (result: T) => void): Promise<T> {
    return callRedis(this.logger, this.metrics, operation, unavailable, call, unconfirmed);
  }
}

/**
 * Runs one Redis call of an HTTP request; any failure (connection down, command timeout, script
 * error) becomes a 503 with `unavailable`, and a write the replicas did not confirm a 503 saying it
 * may exist (`unconfirmed` first sees what the write did, to log it). The commands connection fails
 * fast while disconnected, so this never holds a request for long.
 */
export async function callRedis<T>(
  logger: Logger,
  metrics: Metrics,
  operation: string,
  unavailable: string,
  call: () => Promise<T>,
  unconfirmed?: (result: T) => void,
): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof NotAcknowledgedError) {
      unconfirmed?.(err.result as T);
      metrics.increment(Metric.Unacknowledged, { stage: operation });
      logger.warn(
        { event: LogEvent.OrderUnacknowledged, operation, acknowledged: err.acknowledged, required: err.required },
        `redis ${operation} not confirmed by enough replicas; answering 503`,
      );
      throw new RedisUnavailableException(operation === 'accept' ? ACCEPT_UNCONFIRMED : UNCONFIRMED);
    }
    logger.warn({ event: LogEvent.OrderError, operation, err }, `redis ${operation} failed; answering 503`);
    throw new RedisUnavailableException(unavailable);
  }
}

/**
 * How long {@link untilAnswered} re-runs a write. A call can fail after its script ran (the
 * connection dropped before the reply, as in a failover), and ioredis gives a command up once
 * Redis stays unreachable for a few reconnect attempts; a Sentinel failover takes a few seconds.
 */
export const RERUN_MS = 10_000;

/**
 * Runs a write that carries its own token (a re-run answers what the first run did) until it
 * answers, re-running it after a failed call for up to {@link RERUN_MS}, then throws the last
 * error (the client gets its 503) but goes on re-running in the background until an answer or
 * `stop()`, and hands that answer to `late`. A call given up may still run later (ioredis re-sends
 * a command after a reconnect, a paused master runs what it had buffered), so only an answer tells
 * whether the write happened; `late` logs it. An unconfirmed write (too few replicas) is an answer:
 * its error goes to the caller, or its result to `late(result, false)`.
 */
export async function untilAnswered<T>(
  logger: Logger,
  what: { operation: string; orderId: string; stop: () => boolean; late: (result: T, confirmed: boolean) => void },
  call: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + RERUN_MS;
  const { operation, orderId } = what;
  for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
    try {
      return await call();
    } catch (err) {
      if (err instanceof NotAcknowledgedError || what.stop()) throw err;
      if (Date.now() + delay > deadline) {
        void answerLate(logger, what, call);
        throw err;
      }
      logger.warn({ event: LogEvent.OrderError, operation, orderId, err }, `redis ${operation} failed; re-running it with the same token`);
      await sleep(delay);
    }
  }
}

/** The background half of {@link untilAnswered}: re-runs once a second until an answer or `stop()`. */
async function answerLate<T>(
  logger: Logger,
  what: { operation: string; orderId: string; stop: () => boolean; late: (result: T, confirmed: boolean) => void },
  call: () => Promise<T>,
): Promise<void> {
  const { operation, orderId } = what;
  logger.warn(
    { event: LogEvent.OrderError, operation, orderId },
    `redis ${operation} still failing; answered 503, re-running it in the background`,
  );
  while (!what.stop()) {
    await sleep(1000);
    if (what.stop()) return;
    try {
      what.late(await call(), true);
      return;
    } catch (err) {
      if (err instanceof NotAcknowledgedError) {
        what.late(err.result as T, false);
        return;
      }
    }
  }
}
