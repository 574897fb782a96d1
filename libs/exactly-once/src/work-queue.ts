import { parseClaim, parseFail, type Attempt, type ClaimResult, type DueBatch, type FailResult } from './results';
import type { ScriptClient } from './script-client';
import { ENGINE_SCRIPTS } from './scripts';

/**
 * The keys and channels of one kind of record. The engine builds no key itself: the service's key
 * module implements this, so its namespace reaches every key.
 */
export interface QueueKeys {
  /** The record hash (status, attempts, createdAt, trace, commitToken:<status>, processedBy, … and the service's fields). */
  record(id: string): string;
  /** The record's lock; its value is the claimant's random token. */
  lock(id: string): string;
  /** Sorted set: id → epoch ms at which the record is due for the sweep. */
  readonly backlog: string;
  /** Sorted set: records that ended FAILED → epoch ms of failure. */
  readonly dead: string;
  /** Channel on which finishing a record announces its id. */
  readonly statusChannel: string;
  /**
   * Channel of one worker (affinity claiming): finishing a record announces its id here too when
   * this worker ranks second for it, the one worker holding a hedge for it.
   */
  hedgeChannel(worker: string): string;
  /** Sorted set: worker name → epoch ms of its last heartbeat (affinity claiming only). */
  readonly workers: string;
}

/** The keys and arguments every fenced commit starts with (`fence.lua` / `finish.lua`'s head). */
export interface Fence {
  keys: [record: string, lock: string, backlog: string];
  args: [token: string, worker: string, now: string, announce: string, id: string, retentionMs: number, workingStatus: string];
}

/** What a claim asks for. */
export interface ClaimOptions {
  lockTtlMs: number;
  /** The statuses that mean "work to do", each with the attempts it may take before it is FAILED. */
  work: ReadonlyArray<{ status: string; maxAttempts: number }>;
  /** Record fields handed back with a won claim. */
  fields: readonly string[];
  /**
   * Only work no attempt has started (attempts 0): a hedge takes over from an owner that never
   * claimed, never from one that is working or whose failed attempt waits out its backoff.
   */
  fresh?: boolean;
  now: string;
}

/**
 * The engine's operations on records, in Redis: claim, renew, release, fail, the backlog's due
 * ids, and the fence every commit of a service starts with.
 */
export class WorkQueue {
  constructor(
    readonly client: ScriptClient,
    readonly keys: QueueKeys,
    /** How long a finished record is kept (its TTL); records with work to do never expire. */
    readonly retentionMs: number,
  ) {
    client.define(ENGINE_SCRIPTS);
  }

  /**
   * SET lock NX PX on a record with work to do, counting the attempt. Not traced: most claims are
   * lost, and the consumer records a won one into its processing span afterwards.
   */
  async claim(attempt: Attempt, options: ClaimOptions): Promise<ClaimResult> {
    const { id, token } = attempt;
    const reply = await this.client.call(
      (redis) =>
        redis.eoClaim(
          this.keys.record(id),
          this.keys.lock(id),
          this.keys.backlog,
          this.keys.dead,
          token,
          attempt.worker,
          options.now,
          this.keys.statusChannel,
          id,
          this.retentionMs,
          options.work.map((w) => w.status).join(' '),
          options.lockTtlMs,
          options.work.map((w) => w.maxAttempts).join(' '),
          options.fresh ? 'fresh' : '',
          ...options.fields,
        ),
      { batched: true },
    );
    return parseClaim(reply, options.fields);
  }

  /** Lease renewal: compare-and-PEXPIRE. Resolves false when the lock is no longer ours. */
  async extend(attempt: Attempt, lockTtlMs: number): Promise<boolean> {
    const reply = await this.client.call(
      (redis) => redis.eoExtendLock(this.keys.lock(attempt.id), this.keys.backlog, attempt.token, lockTtlMs, attempt.id),
      { script: 'extend-lock' },
    );
    return reply === 1;
  }

  /** Compare-and-delete release; the record becomes due again after `dueInMs`. */
  async release(attempt: Attempt, dueInMs: number): Promise<boolean> {
    const reply = await this.client.call(
      (redis) => redis.eoReleaseLock(this.keys.lock(attempt.id), this.keys.backlog, attempt.token, attempt.id, dueInMs),
      { script: 'release-lock' },
    );
    return reply === 1;
  }

  /** Records a failed attempt: retry after `backoffMs`, or FAILED once `maxAttempts` are used. */
  async fail(
    attempt: Attempt,
    workingStatus: string,
    options: { maxAttempts: number; backoffMs: number; now: string; error: string },
  ): Promise<FailResult> {
    const fence = this.fence(attempt, workingStatus, options.now);
    // Parsed inside the write: an unconfirmed one carries the parsed result in its NotAcknowledgedError.
    return this.client.write(
      (redis) =>
        redis
          .eoFailAttempt(...fence.keys, this.keys.dead, ...fence.args, options.maxAttempts, options.backoffMs, options.error)
          .then(parseFail),
      { script: 'fail-attempt' },
    );
  }

  /**
   * Ids on the backlog that are due now (by Redis's clock), at most `limit`, with the backlog's size
   * and lag; drops the dead-list entries whose records have expired.
   */
  async due(limit: number): Promise<DueBatch> {
    const [size, overdueMs, ...ids] = await this.client.call(
      (redis) => redis.eoDue(this.keys.backlog, this.keys.dead, limit, this.retentionMs),
      {
        script: 'due',
      },
    );
    return { size: Number(size), overdueMs: Number(overdueMs), ids: ids.map(String) };
  }

  /** The channel finishing a record announces its id on. */
  get statusChannel(): string {
    return this.keys.statusChannel;
  }

  /**
   * Records `worker` as alive (or, with `leave`, as gone), drops heartbeats older than `ttlMs`, and
   * answers the live workers, in name order. Not replicated on purpose: liveness is soft state.
   */
  async heartbeat(worker: string, ttlMs: number, leave = false): Promise<string[]> {
    const live = await this.client.call((redis) => redis.eoHeartbeat(this.keys.workers, worker, ttlMs, leave ? 'leave' : 'beat'), {
      script: 'heartbeat',
    });
    return live.map(String);
  }

  /** The channel on which `worker` hears that a record it holds a hedge for is finished. */
  hedgeChannel(worker: string): string {
    return this.keys.hedgeChannel(worker);
  }

  /**
   * The head of a fenced commit of `attempt` on a record in `workingStatus`, stamped `now`. Its
   * finish is announced on the status channel and, given a `hedger`, on that worker's channel.
   */
  fence(attempt: Attempt, workingStatus: string, now: string, hedger?: string): Fence {
    const { id } = attempt;
    const announce = hedger === undefined ? this.keys.statusChannel : `${this.keys.statusChannel} ${this.keys.hedgeChannel(hedger)}`;
    return {
      keys: [this.keys.record(id), this.keys.lock(id), this.keys.backlog],
      args: [attempt.token, attempt.worker, now, announce, id, this.retentionMs, workingStatus],
    };
  }
}
