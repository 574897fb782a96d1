import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { LiveWorkers, rendezvousRank, rendezvousRunnerUp } from './affinity';
import { LeaseLostError, ShutdownAbortError } from './errors';
import { sleep, withLease } from './lease';
import { NotAcknowledgedError } from './replication-acks';
import type { Attempt, ClaimResult, CommitResult } from './results';
import { epochMs, type Logger, type Metrics, noMetrics, noTracing, type ProcessSpan, type Tracing } from './telemetry';
import { engineLogEvents, engineMetricNames, type Vocabulary } from './vocabulary';
import type { Fence, WorkQueue } from './work-queue';

/** A message as the engine needs it: which kind, which record, and the producer's trace headers. */
export interface Message {
  type: string;
  id: string;
  trace?: Record<string, string>;
}

/** A decoded message, or the first problem found in it (the field it is in, and what is wrong). */
export type Decoded = { ok: true; value: Message } | { ok: false; error: { field: string; message: string } };

/** A record this worker has claimed, as handed to its handler. */
export interface Job {
  id: string;
  /** The message type of the handler that runs (the record's status chose it). */
  type: string;
  /** The status the record was claimed in. */
  status: string;
  /** 1-based attempt number. */
  attempt: number;
  /**
   * Where the claim came from: a Pub/Sub message, the backlog sweep, or (affinity claiming) a
   * message whose first-ranked worker did not finish the record within the hedge delay.
   */
  source: 'message' | 'sweep' | 'hedge';
  createdAt: string;
  /** The record fields the handler asked for (`MessageHandler.fields`). */
  fields: Record<string, string | null>;
}

/**
 * One kind of work: the messages of `type` announce it, and a record in `status` has it to do.
 * `process` runs between claim and commit under a renewed lease and must honour `signal` (lease
 * lost, shutdown); `commit` applies the effect through the service's fenced script, which starts
 * with `fence.keys` and `fence.args` and includes `fence.lua` and `finish.lua`.
 */
export interface MessageHandler {
  type: string;
  status: string;
  fields?: readonly string[];
  /** Attempts before the record is FAILED; the consumer's `maxAttempts` by default. */
  maxAttempts?: number;
  /**
   * The log event and metric of a commit (`<entity>.processed` / `<plural>.processed` by default):
   * a second kind of work on the same records (a cancellation) counts under names of its own.
   */
  committed?: { event: string; metric: string };
  process(job: Job, signal: AbortSignal): Promise<void>;
  commit(job: Job, fence: Fence): Promise<CommitResult>;
}

/** The subscriber connection, as the consumer uses it. */
export interface Subscriber {
  readonly status: string;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
}

/** Everything an {@link ExactlyOnceConsumer} is built with. */
export interface ConsumerOptions {
  queue: Pick<WorkQueue, 'claim' | 'extend' | 'release' | 'fail' | 'due' | 'fence' | 'heartbeat' | 'hedgeChannel'>;
  subscriber: Subscriber;
  /** The channel announcing work. */
  channel: string;
  /** Turns a raw message into a {@link Message}; what fails is dropped and logged. */
  decode: (raw: string) => Decoded;
  handlers: readonly MessageHandler[];
  logger: Logger;
  vocabulary: Vocabulary;
  /** This worker's name: in lock tokens and `processedBy`. */
  worker: string;
  lockTtlMs: number;
  sweepIntervalMs: number;
  /** Ids taken from the backlog per sweep round. */
  sweepBatch: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** How long `stop` waits for in-flight work before handing it back. */
  shutdownTimeoutMs: number;
  /**
   * Who claims an announced record. `race` (the default): every worker, at once; the lock picks one.
   * `affinity`: the worker ranked first for its id by rendezvous hashing over the live workers (a
   * heartbeat each `heartbeatMs`) claims at once; the worker ranked second claims after `hedgeMs`
   * unless the record's finish is announced to it first; the others leave it to those two and the
   * sweep. The lock, the fence and the sweep are the same.
   */
  claimMode?: ClaimMode;
  /** Affinity claiming: how long the second-ranked worker waits before it claims a record the first did not finish (250). */
  hedgeMs?: number;
  /** Affinity claiming: heartbeat period (1000); a worker silent for three periods is taken for dead. */
  heartbeatMs?: number;
  tracing?: Tracing;
  metrics?: Metrics;
}

/** The consumer's tuning: what a service reads from its configuration. */
export type ConsumerTuning = Pick<
  ConsumerOptions,
  | 'lockTtlMs'
  | 'sweepIntervalMs'
  | 'sweepBatch'
  | 'maxAttempts'
  | 'retryBaseMs'
  | 'retryMaxMs'
  | 'shutdownTimeoutMs'
  | 'claimMode'
  | 'hedgeMs'
>;

/** See {@link ConsumerOptions.claimMode}. */
export type ClaimMode = 'race' | 'affinity';

/**
 * docs/design.md steps 2–8 for one worker: claims each announced or due record with a random-token
 * lock, runs its handler under a renewed lease, commits through the handler's fenced script,
 * releases by compare-and-delete on every other path, recovers the backlog on start, on every
 * reconnect and on a jittered interval, and drains on shutdown. Pub/Sub only makes work fast; the
 * backlog makes it certain.
 */
export class ExactlyOnceConsumer {
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Aborted when the drain deadline passes: every in-flight lease hands its record back. */
  private readonly shutdown = new AbortController();
  private readonly handlers = new Map<string, MessageHandler>();
  private readonly types: Set<string>;
  private readonly work: Array<{ status: string; maxAttempts: number }>;
  private readonly fields: string[];
  private readonly tracing: Tracing;
  private readonly metrics: Metrics;
  private readonly events: ReturnType<typeof engineLogEvents>;
  private readonly metric: ReturnType<typeof engineMetricNames>;
  private readonly idField: string;
  private readonly entity: string;
  private sweepTimer: NodeJS.Timeout | undefined;
  /** Affinity claiming: the live workers, and the records waiting for their hedge delay. */
  private readonly live: LiveWorkers | undefined;
  private readonly hedges = new Map<string, NodeJS.Timeout>();
  private sweeping: Promise<void> | undefined;
  private stopping = false;
  private started = false;
  private subscribed = false;

  constructor(private readonly options: ConsumerOptions) {
    for (const handler of options.handlers) {
      if (this.handlers.has(handler.status)) throw new Error(`two handlers work on status ${handler.status}`);
      this.handlers.set(handler.status, handler);
    }
    this.types = new Set(options.handlers.map((handler) => handler.type));
    this.work = options.handlers.map((h) => ({ status: h.status, maxAttempts: h.maxAttempts ?? options.maxAttempts }));
    this.fields = [...new Set(options.handlers.flatMap((handler) => handler.fields ?? []))];
    this.tracing = options.tracing ?? noTracing;
    this.metrics = options.metrics ?? noMetrics;
    this.events = engineLogEvents(options.vocabulary);
    this.metric = engineMetricNames(options.vocabulary);
    this.idField = options.vocabulary.idField;
    this.entity = options.vocabulary.entity;
    // Every in-flight lease listens on this one signal; thousands are normal, not a leak.
    setMaxListeners(0, this.shutdown.signal);
    if (options.claimMode === 'affinity') {
      const intervalMs = options.heartbeatMs ?? 1000;
      this.live = new LiveWorkers(
        (leave) => options.queue.heartbeat(options.worker, 3 * intervalMs, leave),
        options.worker,
        { intervalMs, ttlMs: 3 * intervalMs },
        (error) =>
          options.logger.warn(
            { event: this.events.redisState, err: error, state: 'heartbeat_failed' },
            'heartbeat failed; keeping the last view of the live workers',
          ),
      );
    }
  }

  /** True once subscribed and while the subscriber connection is up. */
  get isSubscribed(): boolean {
    return this.subscribed && this.options.subscriber.status === 'ready';
  }

  /** Number of records this worker is working on now. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Subscribes to the channel, then recovers the backlog and schedules the periodic sweep. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const { subscriber, channel, logger, queue, worker } = this.options;
    const hedgeChannel = queue.hedgeChannel(worker);
    subscriber.on('message', (ch: string, message: string) => {
      // The callback's active span is a long-finished connection span; nothing here may join it
      // (a claim is traced only once won, with the message's context as explicit parent).
      if (ch === channel) this.tracing.detached(() => this.onMessage(message));
      else if (this.live && ch === hedgeChannel) this.onFinished(message);
    });
    subscriber.on('ready', () => {
      // ioredis re-subscribes on reconnect; whatever was published in the gap is on the backlog.
      if (!this.subscribed || this.stopping) return;
      logger.info(
        { event: this.events.redisState, connection: 'subscriber', state: 'resubscribed' },
        'subscriber reconnected; sweeping the backlog',
      );
      this.triggerSweep();
    });
    // Subscribe before awaiting anything else: issued while the subscriber still connects, the
    // subscription waits in ioredis's offline queue for its ready check; issued in the middle of
    // that check (after some other round trip), it put the connection in subscriber mode before
    // the check's INFO, which then failed. The first heartbeat runs alongside.
    const firstBeat = this.live?.start();
    // A record's finish, announced on this worker's own channel, cancels the hedge it armed for it.
    const subscribed = this.live
      ? Promise.all([subscriber.subscribe(hedgeChannel), subscriber.subscribe(channel)])
      : subscriber.subscribe(channel);
    await subscribed;
    await firstBeat;
    this.subscribed = true;
    this.triggerSweep();
    this.scheduleSweep();
  }

  /** docs/design.md step 8: stop taking work, wait for in-flight records, hand back what is left. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearTimeout(this.sweepTimer);
    for (const hedge of this.hedges.values()) clearTimeout(hedge);
    this.hedges.clear();
    if (this.subscribed) {
      this.subscribed = false;
      await this.options.subscriber.unsubscribe(this.options.channel).catch(() => undefined);
      if (this.live) {
        await this.options.subscriber.unsubscribe(this.options.queue.hedgeChannel(this.options.worker)).catch(() => undefined);
      }
    }
    await this.live?.stop();
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
    const decoded = this.options.decode(raw);
    const problem = decoded.ok
      ? this.types.has(decoded.value.type)
        ? undefined
        : { field: 'type', message: `must be one of ${[...this.types].join(', ')}` }
      : decoded.error;
    if (problem || !decoded.ok) {
      this.metrics.increment(this.metric.messagesInvalid);
      this.options.logger.warn(
        { event: this.events.messageInvalid, field: problem?.field, problem: problem?.message, sample: raw.slice(0, 200) },
        `dropped invalid message: ${problem?.field} ${problem?.message}`,
      );
      return;
    }
    const { id, trace } = decoded.value;
    if (!this.live) {
      void this.process(id, 'message', trace);
      return;
    }
    const rank = rendezvousRank(id, this.options.worker, this.live.workers);
    if (rank === 0) {
      void this.process(id, 'message', trace);
      return;
    }
    // Ranked second: claim after the hedge delay, unless the record's finish is announced to this
    // worker first. Ranked lower: nothing (the finish is not announced to them either).
    if (rank > 1 || this.hedges.has(id) || this.inFlight.has(id)) return;
    const timer = setTimeout(() => {
      this.hedges.delete(id);
      this.metrics.increment(this.metric.hedged);
      void this.process(id, 'hedge', trace);
    }, this.options.hedgeMs ?? 250);
    this.hedges.set(id, timer);
  }

  /** Affinity claiming: a record this worker holds a hedge for is finished; the hedge is not needed. */
  private onFinished(id: string): void {
    const hedge = this.hedges.get(id);
    if (hedge === undefined) return;
    clearTimeout(hedge);
    this.hedges.delete(id);
  }

  private scheduleSweep(): void {
    if (this.stopping) return;
    // ±20% jitter keeps workers from sweeping in lockstep.
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
    this.sweeping = this.tracing
      .detached(() => this.sweep())
      .finally(() => {
        this.sweeping = undefined;
      });
  }

  /** docs/design.md step 6: run claim → work → commit on every due backlog entry. */
  private async sweep(): Promise<void> {
    try {
      for (;;) {
        if (this.stopping) return;
        const { size, overdueMs, ids } = await this.options.queue.due(this.options.sweepBatch);
        this.metrics.gauge(this.metric.backlogSize, size);
        this.metrics.gauge(this.metric.backlogOverdue, overdueMs);
        const due = ids.filter((id) => !this.inFlight.has(id));
        if (due.length === 0) return;
        await Promise.all(due.map((id) => this.process(id, 'sweep')));
        if (ids.length < this.options.sweepBatch) return;
      }
    } catch (error) {
      this.options.logger.warn({ event: this.events.sweepFailed, err: error }, 'backlog sweep failed; retrying next round');
    }
  }

  /**
   * Processes one record end to end; never rejects. `trace` is the message's propagation headers;
   * a sweep has none and takes the ones stored with the record.
   */
  process(id: string, source: Job['source'], trace?: Record<string, string>): Promise<void> {
    if (this.stopping) return Promise.resolve();
    const existing = this.inFlight.get(id);
    if (existing) return existing;
    const done = this.claimAndProcess(id, source, trace, this.shutdown.signal)
      .catch((error: unknown) => {
        this.options.logger.error(
          { event: this.events.error, [this.idField]: id, err: error },
          `error while processing ${this.entity}; the backlog will retry it`,
        );
      })
      .finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, done);
    return done;
  }

  private async claimAndProcess(
    id: string,
    source: Job['source'],
    trace: Record<string, string> | undefined,
    shutdown: AbortSignal,
  ): Promise<void> {
    const { worker, lockTtlMs } = this.options;
    // The worker name in the token tells an operator reading the lock who holds it.
    const attempt: Attempt = { id, token: `${worker}:${randomUUID()}`, worker };
    const startedAt = performance.now();
    const claim = await this.options.queue.claim(attempt, {
      lockTtlMs,
      work: this.work,
      fields: this.fields,
      now: new Date().toISOString(),
      fresh: source === 'hedge',
    });
    if (claim.code === 'locked' || claim.code === 'started' || claim.code === 'already_processed') {
      this.reportLostClaim(id, source, claim);
      return;
    }
    // Only a claim that changes something is traced: the span is backdated to the claim, which
    // becomes its first child, so the trace reads produce → claim → commit. The N−1 routine losses
    // of every message get no span (the skipped counter counts them): with tracing on, their spans
    // were most of a losing worker's CPU.
    const claimStart = epochMs(startedAt);
    const claimFinish = epochMs();
    const parent = claim.code === 'claimed' ? (trace ?? claim.trace) : trace;
    const handler = claim.code === 'claimed' ? this.handlers.get(claim.status) : undefined;
    const type = handler?.type ?? this.options.handlers[0]?.type ?? 'unknown';
    return this.tracing.traceProcessing({ id, type, source }, parent, claimStart, (span) => {
      span.setTag('lock.outcome', claim.code);
      span.recordScript('claim', claimStart, claimFinish);
      if (claim.code === 'claimed' && handler) return this.processClaimed(attempt, handler, claim, source, shutdown, startedAt, span);
      if (claim.code !== 'claimed') this.reportRefusedClaim(id, source, claim, span);
      return Promise.resolve();
    });
  }

  /** The N−1 losing claims of every message: counted, logged at debug, never traced. */
  private reportLostClaim(
    id: string,
    source: Job['source'],
    claim: Extract<ClaimResult, { code: 'locked' | 'started' | 'already_processed' }>,
  ): void {
    // No child logger: this runs for every losing worker on every message.
    const { logger } = this.options;
    if (claim.code === 'started') {
      // A hedge that found the owner at work (or its failed attempt backing off): not ours to take.
      this.metrics.increment(this.metric.skipped, { reason: 'started' });
      logger.debug(
        { [this.idField]: id, event: this.events.skipped, reason: 'started', source },
        'an attempt has started; the hedge stands down',
      );
      return;
    }
    if (claim.code === 'locked') {
      // Debug, not info: every message makes N-1 workers lose, so at info the skip lines would
      // outnumber everything else N-1 to 1 (and be most of the log bill, and a fifth of a losing
      // worker's CPU). The skipped counter counts them; LOG_LEVEL=debug shows each.
      this.metrics.increment(this.metric.skipped, { reason: 'locked' });
      logger.debug({ [this.idField]: id, event: this.events.skipped, reason: 'locked', source }, 'another worker holds the lock');
      return;
    }
    // A worker that lost by arriving after the commit: the same N-1 lines per message as 'locked'
    // (and what a duplicate delivery looks like), so debug too.
    this.metrics.increment(this.metric.skipped, { reason: 'already_processed' });
    logger.debug(
      { [this.idField]: id, event: this.events.skipped, reason: 'already_processed', status: claim.status, source },
      `${this.entity} has no work left`,
    );
  }

  /** Claims refused for a reason worth a look: a message about no known record, or attempts used up. */
  private reportRefusedClaim(
    id: string,
    source: Job['source'],
    claim: Extract<ClaimResult, { code: 'not_found' | 'exhausted' }>,
    span: ProcessSpan,
  ): void {
    const { logger } = this.options;
    if (claim.code === 'not_found') {
      this.metrics.increment(this.metric.skipped, { reason: `unknown_${this.entity}` });
      logger.warn(
        { [this.idField]: id, event: this.events.skipped, reason: `unknown_${this.entity}`, source },
        `no such ${this.entity}; message ignored`,
      );
      return;
    }
    this.metrics.increment(this.metric.failed, { reason: 'attempts_exhausted' });
    span.setTag(`${this.entity}.outcome`, 'failed');
    span.setError(new Error(`attempts exhausted (${claim.attempts}) by interrupted attempts`));
    logger.error(
      { [this.idField]: id, event: this.events.failed, attempts: claim.attempts, reason: 'attempts_exhausted' },
      `attempts exhausted by interrupted attempts; ${this.entity} FAILED`,
    );
  }

  private async processClaimed(
    attempt: Attempt,
    handler: MessageHandler,
    claim: Extract<ClaimResult, { code: 'claimed' }>,
    source: Job['source'],
    shutdown: AbortSignal,
    startedAt: number,
    span: ProcessSpan,
  ): Promise<void> {
    const { id } = attempt;
    const { lockTtlMs, queue } = this.options;
    const { metrics, metric, events, entity } = this;
    const log = this.options.logger.child({ [this.idField]: id });
    const createdAt = Date.parse(claim.createdAt);
    span.setTag(`${entity}.attempt`, claim.attempt);
    if (!Number.isNaN(createdAt)) metrics.distribution(metric.lockWait, Math.max(0, Date.now() - createdAt), { source });
    log.debug({ event: events.claimed, type: handler.type, attempt: claim.attempt, source }, 'lock taken');
    if (source === 'sweep') {
      metrics.increment(metric.recovered);
      log.info({ event: events.recovered, attempt: claim.attempt }, 'recovered from the backlog');
    }
    const job: Job = {
      id,
      type: handler.type,
      status: claim.status,
      attempt: claim.attempt,
      source,
      createdAt: claim.createdAt,
      fields: claim.fields,
    };

    try {
      await withLease(
        {
          id,
          ttlMs: lockTtlMs,
          signal: shutdown,
          renew: () => queue.extend(attempt, lockTtlMs),
          onRenewError: (err) => log.warn({ event: events.leaseRenewFailed, err }, 'lock renewal failed; retrying'),
        },
        (signal) => handler.process(job, signal),
      );
    } catch (error) {
      await this.abandon(attempt, job, error, log, span);
      return;
    }

    // Affinity claiming: the finish is also announced to the worker holding a hedge for the record.
    const runnerUp = this.live && rendezvousRunnerUp(id, this.live.workers);
    const hedger = runnerUp && runnerUp !== attempt.worker ? runnerUp : undefined;
    const result = await this.untilDurable(id, 'commit', shutdown, () =>
      handler.commit(job, queue.fence(attempt, job.status, new Date().toISOString(), hedger)),
    );
    const durationMs = Math.round(performance.now() - startedAt);
    span.setTag(`${entity}.commit`, result.code);
    switch (result.code) {
      case 'committed':
      case 'replayed': {
        const outcome = result.code === 'replayed' ? result.status.toLowerCase() : result.outcome;
        const committed = handler.committed ?? { event: events.processed, metric: metric.processed };
        span.setTag(`${entity}.outcome`, outcome);
        metrics.increment(committed.metric, { outcome });
        metrics.distribution(metric.processingDuration, durationMs, { outcome });
        if (!Number.isNaN(createdAt)) metrics.distribution(metric.endToEnd, Math.max(0, Date.now() - createdAt), { outcome });
        log.info(
          {
            event: committed.event,
            outcome,
            attempt: claim.attempt,
            durationMs,
            source,
            ...(result.code === 'committed' ? result.detail : { replayed: true }),
          },
          result.code === 'replayed' ? `${entity} committed (reply recovered by replay)` : `${entity} ${outcome}`,
        );
        return;
      }
      case 'lease_lost':
        metrics.increment(metric.leaseLost, { stage: 'commit' });
        span.setError(new LeaseLostError(id, 'commit refused by the fence'));
        log.warn(
          { event: events.leaseLost, attempt: claim.attempt, status: result.status, stage: 'commit' },
          'commit refused: lock no longer ours',
        );
        return;
      case 'already_processed':
        metrics.increment(metric.skipped, { reason: 'already_processed' });
        log.info(
          { event: events.skipped, reason: 'already_processed', status: result.status, source },
          `${entity} changed status meanwhile`,
        );
        return;
      case 'not_found':
        metrics.increment(metric.skipped, { reason: `unknown_${entity}` });
        log.warn({ event: events.skipped, reason: `unknown_${entity}`, source }, `${entity} vanished before commit`);
        return;
    }
  }

  /**
   * Runs a reported write (commit, or the failure of an attempt) until its outcome is known and
   * durable, re-running it with the same token after a failed call (connection dropped) or an
   * unconfirmed one (fewer replicas than required confirmed it), until the shutdown deadline
   * passes. Against whatever is master now, the re-run answers `replayed` if the first run
   * survived, a fresh outcome if a failover lost it while the lock is still ours, and `lease_lost`
   * if it was lost and the lock has expired (the record has work to do there and the backlog
   * retries it). So re-running is never wrong however late, and giving up early is: a write that
   * applied but whose replies were lost for a while would never get its outcome's log line.
   * `settled` accepts an unconfirmed outcome that reports nothing final.
   */
  private async untilDurable<T>(
    id: string,
    stage: 'commit' | 'fail',
    shutdown: AbortSignal,
    call: () => Promise<T>,
    settled: (result: T) => boolean = () => false,
  ): Promise<T> {
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      try {
        return await call();
      } catch (error) {
        if (error instanceof NotAcknowledgedError) {
          const result = error.result as T;
          if (settled(result)) return result;
          this.metrics.increment(this.metric.unacknowledged, { stage });
          this.options.logger.warn(
            { [this.idField]: id, event: this.events.unacknowledged, stage, acknowledged: error.acknowledged, required: error.required },
            `${stage} not confirmed by enough replicas; re-running it with the same token`,
          );
        } else {
          this.options.logger.warn({ [this.idField]: id, err: error }, `${stage} call failed; re-running it with the same token`);
        }
        if (shutdown.aborted) throw error;
        await sleep(delay);
      }
    }
  }

  private async abandon(attempt: Attempt, job: Job, error: unknown, log: Logger, span: ProcessSpan): Promise<void> {
    const { metrics, metric, events, entity } = this;
    const { queue } = this.options;
    if (error instanceof LeaseLostError) {
      metrics.increment(metric.leaseLost, { stage: 'work' });
      span.setError(error);
      log.warn({ event: events.leaseLost, attempt: job.attempt, stage: 'work' }, error.message);
      await queue.release(attempt, 0).catch(() => undefined);
      return;
    }
    if (error instanceof ShutdownAbortError) {
      span.setTag(`${entity}.released`, true);
      const released = await queue.release(attempt, 0).catch(() => false);
      log.info({ event: events.released, attempt: job.attempt, released, reason: 'shutdown' }, 'handed back for another worker');
      return;
    }
    const { retryBaseMs, retryMaxMs } = this.options;
    const maxAttempts = this.handlers.get(job.status)?.maxAttempts ?? this.options.maxAttempts;
    const exp = Math.min(retryMaxMs, retryBaseMs * 2 ** (job.attempt - 1));
    const backoffMs = Math.round(exp / 2 + Math.random() * (exp / 2));
    const message = error instanceof Error ? error.message : String(error);
    const result = await this.untilDurable(
      attempt.id,
      'fail',
      this.shutdown.signal,
      () => queue.fail(attempt, job.status, { maxAttempts, backoffMs, now: new Date().toISOString(), error: message.slice(0, 500) }),
      // A retry that a failover loses only costs the record an attempt less.
      (failed) => failed.code === 'retry',
    );
    span.setError(error);
    if (result.code === 'failed') {
      metrics.increment(metric.failed, { reason: 'work_failed' });
      log.error({ event: events.failed, attempts: result.attempts, reason: message, err: error }, `attempts exhausted; ${entity} FAILED`);
    } else if (result.code === 'retry') {
      metrics.increment(metric.retryScheduled);
      log.warn(
        { event: events.retryScheduled, attempt: result.attempts, backoffMs, err: error },
        `attempt failed; retrying in ${backoffMs} ms`,
      );
    } else {
      metrics.increment(metric.leaseLost, { stage: 'fail' });
      log.warn(
        { event: events.leaseLost, attempt: job.attempt, stage: 'fail', status: result.status },
        'could not record failure: lock no longer ours',
      );
    }
  }
}
