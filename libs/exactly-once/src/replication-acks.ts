import type { Redis } from 'ioredis';

/**
 * A write ran on the master, but fewer replicas than required confirmed it in time (or the
 * connection changed before they could). The write may survive or may be lost in a failover:
 * the caller must not report it as durable, and may safely run it again (every durable script is
 * idempotent for the same record, token or value). `result` is what the master answered.
 */
export class NotAcknowledgedError<T = unknown> extends Error {
  constructor(
    readonly result: T,
    readonly acknowledged: number,
    readonly required: number,
    detail: string,
  ) {
    super(`write not acknowledged by ${required} replica(s): ${detail}`);
    this.name = 'NotAcknowledgedError';
  }
}

/** How long past `timeoutMs` a caller waits for a WAIT reply before it gives up on its own. */
const REPLY_MARGIN_MS = 200;

/**
 * Makes writes durable before they are reported: after a write's reply, a `WAIT replicas timeout`
 * on the same connection confirms that at least `replicas` replicas hold it (WAIT cannot run inside
 * a script, and covers only what its own connection wrote).
 *
 * Group commit: one WAIT is on the wire at a time and covers every write its connection finished
 * before it; writes that finish while it blocks share the next one. So a replica outage costs one
 * blocked WAIT per `timeoutMs`, not one per write, and no caller waits on acknowledgements longer
 * than `timeoutMs` plus a small margin. A WAIT that reaches Redis over a newer socket than the
 * write's (a reconnect or failover in between) would count nothing the write did, so such a write
 * is never confirmed.
 */
export class ReplicationAcks {
  /** Counts the connection's closes: a write and its WAIT must share one socket. */
  private socketEpoch = 0;
  /** The WAIT on the wire. */
  private waiting: Promise<number> | undefined;
  /** The WAIT to send once {@link waiting} returns, shared by the writes that finished meanwhile. */
  private queued: Promise<number> | undefined;

  constructor(
    private readonly redis: Redis,
    /** Replicas that must confirm a write; 0 turns confirmation off (the write's reply is enough). */
    readonly replicas: number,
    /** WAIT's own timeout. */
    readonly timeoutMs: number,
  ) {
    if (replicas > 0) redis.on('close', () => this.socketEpoch++);
  }

  /**
   * Runs `write` and resolves with its result once `replicas` replicas confirmed it; rejects with
   * {@link NotAcknowledgedError} (carrying the result) when they did not in time, and with the
   * write's own error when the write failed.
   */
  async write<T>(write: () => Promise<T>): Promise<T> {
    if (this.replicas === 0) return write();
    const epoch = this.socketEpoch;
    const result = await write();
    if (this.socketEpoch !== epoch) throw new NotAcknowledgedError(result, 0, this.replicas, 'the connection changed during the write');
    let acknowledged: number;
    try {
      acknowledged = await this.confirmation();
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new NotAcknowledgedError(result, 0, this.replicas, `WAIT failed: ${detail}`);
    }
    if (this.socketEpoch !== epoch) throw new NotAcknowledgedError(result, 0, this.replicas, 'the connection changed before WAIT');
    if (acknowledged < this.replicas) {
      throw new NotAcknowledgedError(result, acknowledged, this.replicas, `${acknowledged} confirmed within ${this.timeoutMs} ms`);
    }
    return result;
  }

  /** The count of a WAIT sent after every write this connection has finished so far, bounded in time. */
  private confirmation(): Promise<number> {
    const covering = this.queued ?? (this.waiting ? this.queueNext(this.waiting) : this.sendWait());
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise<number>((resolve) => {
      timer = setTimeout(() => resolve(0), this.timeoutMs + REPLY_MARGIN_MS);
    });
    return Promise.race([covering, giveUp]).finally(() => clearTimeout(timer));
  }

  private queueNext(current: Promise<number>): Promise<number> {
    const next = current
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        this.queued = undefined;
        return this.sendWait();
      });
    this.queued = next;
    return next;
  }

  private sendWait(): Promise<number> {
    const wait: Promise<number> = this.redis.wait(this.replicas, this.timeoutMs).finally(() => {
      if (this.waiting === wait) this.waiting = undefined;
    });
    this.waiting = wait;
    return wait;
  }
}
