/**
 * The words the engine's logs, metrics and span tags use for a record, so that a service's
 * dashboards read in its own terms (with `job`: `job.processed`, `jobs.backlog.size`, `jobId`).
 */
export interface Vocabulary {
  /** Singular noun: log events `<entity>.processed`, span tags `<entity>.outcome`. */
  entity: string;
  /** Plural noun: metric names `<plural>.processed`. */
  plural: string;
  /** Log field carrying the record's id. */
  idField: string;
}

/** The `event` of every log line the engine writes, for `vocabulary`. */
export function engineLogEvents({ entity }: Pick<Vocabulary, 'entity'>) {
  return {
    claimed: `${entity}.claimed`,
    processed: `${entity}.processed`,
    skipped: `${entity}.skipped`,
    leaseLost: `${entity}.lease_lost`,
    failed: `${entity}.failed`,
    retryScheduled: `${entity}.retry_scheduled`,
    released: `${entity}.released`,
    recovered: `${entity}.recovered`,
    error: `${entity}.error`,
    unacknowledged: `${entity}.unacknowledged`,
    messageInvalid: 'message.invalid',
    sweepFailed: 'sweep.failed',
    leaseRenewFailed: 'lease.renew_failed',
    redisState: 'redis.state',
  } as const;
}

/** The name of every metric the engine records, for `vocabulary`. */
export function engineMetricNames({ plural }: Pick<Vocabulary, 'plural'>) {
  return {
    processed: `${plural}.processed`,
    skipped: `${plural}.skipped`,
    leaseLost: `${plural}.lease_lost`,
    recovered: `${plural}.recovered`,
    /** Affinity claiming: claims made because a better-ranked worker did not finish within the hedge delay. */
    hedged: `${plural}.hedged`,
    failed: `${plural}.failed`,
    retryScheduled: `${plural}.retry_scheduled`,
    unacknowledged: `${plural}.unacknowledged`,
    messagesInvalid: `${plural}.messages.invalid`,
    lockWait: `${plural}.lock_wait`,
    processingDuration: `${plural}.processing.duration`,
    endToEnd: `${plural}.end_to_end`,
    backlogSize: `${plural}.backlog.size`,
    backlogOverdue: `${plural}.backlog.overdue_ms`,
  } as const;
}
