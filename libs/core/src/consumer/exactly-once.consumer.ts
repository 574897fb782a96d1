import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { parseEnvelope, type OrderItem } from '../envelope';
import { LogEvent } from '../events';
import { Metric, type Metrics, noMetrics } from '../observability/metrics';
import { epochMs, noTracing, type OrderTracing, type ProcessSpan, withoutActiveSpan } from '../observability/tracing';
import type { RedisKeys } from '../redis/keys';
import { NotAcknowledgedError } from '../redis/replication-acks';
import type { Attempt, ClaimResult, OrderScripts } from '../scripts/order-scripts';
import { LeaseLostError, ShutdownAbortError } from './errors';
import { sleep, withLease } from './lease-keeper';

/** Tuning of the exactly-once consumer (docs/design.md "The algorithm"). */
export interface ConsumerOptions {
  replica: string;
  lockTtlMs: number;
  sweepIntervalMs: number;
  /** Ids taken from the backlog per sweep round. */
  sweepBatch: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** How long a SIGTERM waits for in-flight work before handing it back. */
  shutdownTimeoutMs: number;
}

/** An order this replica has claimed, as handed to the work function. */
export interface ClaimedOrder {
  orderId: string;
  items: OrderItem[];
  attempt: number;
  /** Where the claim came from: a Pub/Sub message or the recovery sweep. */
  source: 'message' | 'sweep';
}

/** The business step run between claim and commit; must honour `signal` (lease lost, shutdown). */
export type OrderWork = (order: ClaimedOrder, signal: AbortSignal) => Promise<void>;

/** Where the consumer reports spans and metrics; both default to doing nothing. */
export interface ConsumerTelemetry {
  tracing: OrderTracing;
  metrics: Metrics;
}

/**
 * Design steps 2–8 (docs/design.md) for one replica: claims each announced or due order with a random-token lock,
 * runs the work under a renewed lease, commits through the fencing script, releases by
 * compare-and-delete on every other path, recovers the backlog on start, on every reconnect and
 * on a jittered interval, and drains on shutdown. Pub/Sub only makes orders fast; the backlog makes
 * them certain.
 */
export class ExactlyOnceConsumer {
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Aborted when the drain deadline passes: every in-flight lease hands its order back. */
  private readonly shutdown = new AbortController();
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private stopping = false;
  private started = false;
  private subscribed = false;

  constructor(
    private readonly scripts: OrderScripts,
    private readonly subscriber: Redis,
    private readonly keys: RedisKeys,
    private readonly logger: Logger,
    private readonly options: ConsumerOptions,
    private readonly work: OrderWork,
    private readonly telemetry: ConsumerTelemetry = { tracing: noTracing, metrics: noMetrics },
  ) {
    // Every in-flight lease listens on this one signal; thousands are normal, not a leak.
    setMaxListeners(0, this.shutdown.signal);
  }

  /** True once subscribed and while the subscriber connection is up. */
  get isSubscribed(): boolean {
    return this.subscribed && this.subscriber.status === 'ready';
  }

  /** Number of orders this replica is working on now. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Subscribes to `order_updates`, then recovers the backlog and schedules the periodic sweep. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const channel = this.keys.orderUpdatesChannel;
    this.subscriber.on('message', (ch: string, message: string) => {
      // The callback's active span is a long-finished connection span; nothing here may join it
      // (a claim is traced only once won, with the envelope's context as explicit parent).
      if (ch === channel) withoutActiveSpan(() => this.onMessage(message));
    });
    this.subscriber.on('ready', () => {
      // ioredis re-subscribes on reconnect; whatever was published in the gap is on the backlog.
      if (!this.subscribed || this.stopping) return;
      this.logger.info(
        { event: LogEvent.RedisState, connection: 'subscriber', state: 'resubscribed' },
        'subscriber reconnected; sweeping the backlog',
      );
      this.triggerSweep();
    });
    await this.subscriber.subscribe(channel);
    this.subscribed = true;
    this.triggerSweep();
    this.scheduleSweep();
  }

  /** Design step 8: stop taking work, wait for in-flight orders, hand back what is left. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearTimeout(this.sweepTimer);
    if (this.subscribed) {
      this.subscribed = false;
      await this.subscriber.unsubscribe(this.keys.orderUpdatesChannel).catch(() => undefined);
    }
    const drained = Promise.allSettled(this.inFlight.values());
    const cancelDeadline = new AbortController();
    const deadline = sleep(this.options.shutdownTimeoutMs, cancelDeadline.signal).then(
      () => 'timeout' as const,
      () => 'drained' as const,
    );
    const outcome = await Promise.race([drained.then(() => 'drained' as const), deadline]);
    cancelDeadline.abort();
    if (outcome === 'timeout') {
      this.shutdown.abort(new ShutdownAbortError());
      await Promise.allSettled(this.inFlight.values());
    }
    await this.sweeping;
  }

  private onMessage(raw: string): void {
    const parsed = parseEnvelope(raw);
    if (!parsed.ok) {
      this.telemetry.metrics.increment(Metric.MessagesInvalid);
      this.logger.warn(
        { event: LogEvent.MessageInvalid, field: parsed.error.field, problem: parsed.error.message, sample: raw.slice(0, 200) },
        `dropped invalid message: ${parsed.error.field} ${parsed.error.message}`,
      );
      return;
    }
    void this.process(parsed.value.orderId, 'message', parsed.value.trace);
  }

  private scheduleSweep(): void {
    if (this.stopping) return;
    // ±20% jitter keeps replicas from sweeping in lockstep.
    const delay = this.options.sweepIntervalMs * (0.8 + Math.random() * 0.4);
    this.sweepTimer = setTimeout(() => {
      this.triggerSweep();
      this.scheduleSweep();
    }, delay);
    this.sweepTimer.unref();
  }

  private triggerSweep(): void {
    if (this.stopping || this.sweeping) return;
    // Sweeps start from timers and connection events, whose context may hold a stale span.
    this.sweeping = withoutActiveSpan(() => this.sweep()).finally(() => {
      this.sweeping = undefined;
    });
  }

  /** Design step 6: run claim → work → commit on every due backlog entry. */
  private async sweep(): Promise<void> {
    try {
      for (;;) {
        if (this.stopping) return;
        const { size, overdueMs, orderIds } = await this.scripts.due(this.options.sweepBatch);
        this.telemetry.metrics.gauge(Metric.BacklogSize, size);
        this.telemetry.metrics.gauge(Metric.BacklogOverdue, overdueMs);
        const due = orderIds.filter((id) => !this.inFlight.has(id));
        if (due.length === 0) return;
        await Promise.all(due.map((orderId) => this.process(orderId, 'sweep')));
        if (orderIds.length < this.options.sweepBatch) return;
      }
    } catch (error) {
      this.logger.warn({ event: LogEvent.SweepFailed, err: error }, 'backlog sweep failed; retrying next round');
    }
  }

  /**
   * Processes one order end to end; never rejects. `trace` is the envelope's propagation headers (a
   * message); a sweep has none and takes the ones stored with the order.
   */
  process(orderId: string, source: ClaimedOrder['source'], trace?: Record<string, string>): Promise<void> {
    if (this.stopping) return Promise.resolve();
    const existing = this.inFlight.get(orderId);
    if (existing) return existing;
    const done = this.claimAndProcess(orderId, source, trace, this.shutdown.signal)
      .catch((error: unknown) => {
        this.logger.error({ event: LogEvent.OrderError, orderId, err: error }, 'error while processing order; the backlog will retry it');
      })
      .finally(() => this.inFlight.delete(orderId));
    this.inFlight.set(orderId, done);
    return done;
  }

  private async claimAndProcess(
    orderId: string,
    source: ClaimedOrder['source'],
    trace: Record<string, string> | undefined,
    shutdown: AbortSignal,
  ): Promise<void> {
    const { replica, lockTtlMs, maxAttempts } = this.options;
    // The replica name in the token tells an operator reading `GET lock:<id>` who holds it.
    const attempt: Attempt = { orderId, token: `${replica}:${randomUUID()}`, replica };
    const startedAt = performance.now();
    const claim = await this.scripts.claim(attempt, lockTtlMs, maxAttempts, new Date().toISOString());
    if (claim.code === 'locked' || claim.code === 'already_processed') {
      this.reportLostClaim(orderId, source, claim);
      return;
    }
    // Only a claim that changes something is traced: the span is backdated to the claim, which
    // becomes its first child, so the trace reads accept → claim → commit. The N−1 routine losses
    // of every order get no span (orders.skipped counts them): with tracing on, their spans were
    // most of a losing replica's CPU.
    const claimStart = epochMs(startedAt);
    const claimFinish = epochMs();
    const parent = claim.code === 'claimed' ? (trace ?? claim.trace) : trace;
    return this.telemetry.tracing.traceProcessing(orderId, source, parent, claimStart, (span) => {
      span.setTag('lock.outcome', claim.code);
      span.recordScript('claim-order', claimStart, claimFinish);
      if (claim.code === 'claimed') return this.processClaimed(attempt, claim, source, shutdown, startedAt, span);
      this.reportRefusedClaim(orderId, source, claim, span);
      return Promise.resolve();
    });
  }

  /** The N−1 losing claims of every order: counted, logged at debug, never traced. */
  private reportLostClaim(
    orderId: string,
    source: ClaimedOrder['source'],
    claim: Extract<ClaimResult, { code: 'locked' | 'already_processed' }>,
  ): void {
    // No child logger: this runs for every losing replica on every message.
    const log = this.logger;
    const { metrics } = this.telemetry;
    if (claim.code === 'locked') {
      // Debug, not info: every message makes N-1 replicas lose, so at info the skip lines would
      // outnumber everything else N-1 to 1 (and be most of the Datadog log bill, and a fifth of a
      // losing replica's CPU). orders.skipped{reason:locked} counts them; LOG_LEVEL=debug shows each.
      metrics.increment(Metric.Skipped, { reason: 'locked' });
      log.debug({ orderId, event: LogEvent.OrderSkipped, reason: 'locked', source }, 'another replica holds the lock');
      return;
    }
    // A replica that lost by arriving after the commit: the same N-1 lines per order as 'locked'
    // (and what a duplicate delivery looks like), so debug too.
    metrics.increment(Metric.Skipped, { reason: 'already_processed' });
    log.debug(
      { orderId, event: LogEvent.OrderSkipped, reason: 'already_processed', status: claim.status, source },
      'order is already terminal',
    );
  }

  /** Claims refused for a reason worth a look: a message about no known order, or attempts used up. */
  private reportRefusedClaim(
    orderId: string,
    source: ClaimedOrder['source'],
    claim: Extract<ClaimResult, { code: 'not_found' | 'exhausted' }>,
    span: ProcessSpan,
  ): void {
    const log = this.logger;
    const { metrics } = this.telemetry;
    if (claim.code === 'not_found') {
      metrics.increment(Metric.Skipped, { reason: 'unknown_order' });
      log.warn({ orderId, event: LogEvent.OrderSkipped, reason: 'unknown_order', source }, 'no such order; message ignored');
      return;
    }
    metrics.increment(Metric.Failed, { reason: 'attempts_exhausted' });
    span.setTag('order.outcome', 'failed');
    span.setError(new Error(`attempts exhausted (${claim.attempts}) by interrupted attempts`));
    log.error(
      { orderId, event: LogEvent.OrderFailed, attempts: claim.attempts, reason: 'attempts_exhausted' },
      'attempts exhausted by interrupted attempts; order FAILED',
    );
  }

  private async processClaimed(
    attempt: Attempt,
    claim: Extract<ClaimResult, { code: 'claimed' }>,
    source: ClaimedOrder['source'],
    shutdown: AbortSignal,
    startedAt: number,
    span: ProcessSpan,
  ): Promise<void> {
    const { orderId } = attempt;
    const { lockTtlMs } = this.options;
    const { metrics } = this.telemetry;
    const log = this.logger.child({ orderId });
    const acceptedAt = Date.parse(claim.createdAt);
    span.setTag('order.attempt', claim.attempt);
    if (!Number.isNaN(acceptedAt)) metrics.distribution(Metric.LockWait, Math.max(0, Date.now() - acceptedAt), { source });
    log.debug({ event: LogEvent.OrderClaimed, attempt: claim.attempt, source }, 'lock taken');
    if (source === 'sweep') {
      metrics.increment(Metric.Recovered);
      log.info({ event: LogEvent.OrderRecovered, attempt: claim.attempt }, 'recovered from the backlog');
    }
    const order: ClaimedOrder = { orderId, items: claim.items, attempt: claim.attempt, source };

    try {
      await withLease(
        {
          orderId,
          ttlMs: lockTtlMs,
          signal: shutdown,
          renew: () => this.scripts.extend(attempt, lockTtlMs),
          onRenewError: (err) => log.warn({ event: LogEvent.LeaseRenewFailed, err }, 'lock renewal failed; retrying'),
        },
        (signal) => this.work(order, signal),
      );
    } catch (error) {
      await this.abandon(attempt, order, error, log, span);
      return;
    }

    const result = await this.untilDurable(attempt.orderId, 'commit', shutdown, () =>
      this.scripts.commit(attempt, order.items, new Date().toISOString()),
    );
    const durationMs = Math.round(performance.now() - startedAt);
    span.setTag('order.commit', result.code);
    switch (result.code) {
      case 'reserved':
      case 'rejected':
      case 'replayed': {
        const outcome = result.code === 'replayed' ? (result.status === 'RESERVED' ? 'reserved' : 'rejected') : result.code;
        span.setTag('order.outcome', outcome);
        metrics.increment(Metric.Processed, { outcome });
        metrics.distribution(Metric.ProcessingDuration, durationMs, { outcome });
        if (!Number.isNaN(acceptedAt)) metrics.distribution(Metric.EndToEnd, Math.max(0, Date.now() - acceptedAt), { outcome });
        log.info(
          {
            event: LogEvent.OrderProcessed,
            outcome,
            attempt: claim.attempt,
            durationMs,
            source,
            ...(result.code === 'rejected' ? { sku: result.sku } : {}),
            ...(result.code === 'replayed' ? { replayed: true } : {}),
          },
          result.code === 'replayed' ? 'order committed (reply recovered by replay)' : `order ${outcome}`,
        );
        return;
      }
      case 'lease_lost':
        metrics.increment(Metric.LeaseLost, { stage: 'commit' });
        span.setError(new LeaseLostError(orderId, 'commit refused by the fence'));
        log.warn(
          { event: LogEvent.OrderLeaseLost, attempt: claim.attempt, status: result.status, stage: 'commit' },
          'commit refused: lock no longer ours',
        );
        return;
      case 'already_processed':
        metrics.increment(Metric.Skipped, { reason: 'already_processed' });
        log.info(
          { event: LogEvent.OrderSkipped, reason: 'already_processed', status: result.status, source },
          'order became terminal meanwhile',
        );
        return;
      case 'not_found':
        metrics.increment(Metric.Skipped, { reason: 'unknown_order' });
        log.warn({ event: LogEvent.OrderSkipped, reason: 'unknown_order', source }, 'order vanished before commit');
        return;
    }
  }

  /**
   * Runs a reported write (commit, or the failure of an attempt) until its outcome is known and
   * durable, re-running it with the same token: after a failed call (connection dropped), for at
   * most twice the lock TTL; after an unconfirmed one (fewer than REDIS_WAIT_REPLICAS replicas
   * confirmed it), until it is confirmed or the shutdown deadline passes. Against whatever is master
   * now, the re-run answers `replayed` if the first run survived, a fresh outcome if a failover lost
   * it while the lock is still ours, and `lease_lost` if it was lost and the lock has expired (the
   * order is PENDING there and the backlog retries it). `settled` accepts an unconfirmed outcome
   * that reports nothing final.
   */
  private async untilDurable<T>(
    orderId: string,
    stage: 'commit' | 'fail',
    shutdown: AbortSignal,
    call: () => Promise<T>,
    settled: (result: T) => boolean = () => false,
  ): Promise<T> {
    const giveUpAt = performance.now() + this.options.lockTtlMs * 2;
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      try {
        return await call();
      } catch (error) {
        if (error instanceof NotAcknowledgedError) {
          const result = error.result as T;
          if (settled(result)) return result;
          this.telemetry.metrics.increment(Metric.Unacknowledged, { stage });
          this.logger.warn(
            { orderId, event: LogEvent.OrderUnacknowledged, stage, acknowledged: error.acknowledged, required: error.required },
            `${stage} not confirmed by enough replicas; re-running it with the same token`,
          );
          if (shutdown.aborted) throw error;
        } else {
          if (performance.now() > giveUpAt || shutdown.aborted) throw error;
          this.logger.warn({ orderId, err: error }, `${stage} call failed; re-running it with the same token`);
        }
        await sleep(delay);
      }
    }
  }

  private async abandon(attempt: Attempt, order: ClaimedOrder, error: unknown, log: Logger, span: ProcessSpan): Promise<void> {
    const { metrics } = this.telemetry;
    if (error instanceof LeaseLostError) {
      metrics.increment(Metric.LeaseLost, { stage: 'work' });
      span.setError(error);
      log.warn({ event: LogEvent.OrderLeaseLost, attempt: order.attempt, stage: 'work' }, error.message);
      await this.scripts.release(attempt, 0).catch(() => undefined);
      return;
    }
    if (error instanceof ShutdownAbortError) {
      span.setTag('order.released', true);
      const released = await this.scripts.release(attempt, 0).catch(() => false);
      log.info({ event: LogEvent.OrderReleased, attempt: order.attempt, released, reason: 'shutdown' }, 'handed back for another replica');
      return;
    }
    const { retryBaseMs, retryMaxMs, maxAttempts } = this.options;
    const exp = Math.min(retryMaxMs, retryBaseMs * 2 ** (order.attempt - 1));
    const backoffMs = Math.round(exp / 2 + Math.random() * (exp / 2));
    const message = error instanceof Error ? error.message : String(error);
    const result = await this.untilDurable(
      attempt.orderId,
      'fail',
      this.shutdown.signal,
      () => this.scripts.fail(attempt, maxAttempts, backoffMs, new Date().toISOString(), message.slice(0, 500)),
      // A retry that a failover loses only costs the order an attempt less.
      (failed) => failed.code === 'retry',
    );
    span.setError(error);
    if (result.code === 'failed') {
      metrics.increment(Metric.Failed, { reason: 'work_failed' });
      log.error(
        { event: LogEvent.OrderFailed, attempts: result.attempts, reason: message, err: error },
        'attempts exhausted; order FAILED',
      );
    } else if (result.code === 'retry') {
      metrics.increment(Metric.RetryScheduled);
      log.warn(
        { event: LogEvent.OrderRetryScheduled, attempt: result.attempts, backoffMs, err: error },
        `attempt failed; retrying in ${backoffMs} ms`,
      );
    } else {
      metrics.increment(Metric.LeaseLost, { stage: 'fail' });
      log.warn(
        { event: LogEvent.OrderLeaseLost, attempt: order.attempt, stage: 'fail', status: result.status },
        'could not record failure: lock no longer ours',
      );
    }
  }
}
