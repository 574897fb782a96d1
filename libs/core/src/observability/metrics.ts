import tracer from 'dd-trace';

/** Metric names (DogStatsD); dashboards and monitors in `datadog/` rely on them. */
export const Metric = {
  Accepted: 'orders.accepted',
  Processed: 'orders.processed',
  Skipped: 'orders.skipped',
  LeaseLost: 'orders.lease_lost',
  Recovered: 'orders.recovered',
  Failed: 'orders.failed',
  RetryScheduled: 'orders.retry_scheduled',
  MessagesInvalid: 'orders.messages.invalid',
  LockWait: 'orders.lock_wait',
  ProcessingDuration: 'orders.processing.duration',
  EndToEnd: 'orders.end_to_end',
  BacklogSize: 'orders.backlog.size',
  BacklogOverdue: 'orders.backlog.overdue_ms',
} as const;

/** One of the {@link Metric} names. */
export type MetricName = (typeof Metric)[keyof typeof Metric];

/** Tag values of one data point (`outcome`, `reason`, `stage`, …). */
export type MetricTags = Record<string, string>;

/** What the services record; narrow so code under test can take {@link noMetrics}. */
export interface Metrics {
  increment(name: MetricName, tags?: MetricTags): void;
  distribution(name: MetricName, value: number, tags?: MetricTags): void;
  gauge(name: MetricName, value: number, tags?: MetricTags): void;
}

/**
 * {@link Metrics} through dd-trace's DogStatsD client (to `DD_AGENT_HOST`:`DD_DOGSTATSD_PORT`, 8125):
 * it adds `service`, `env` and `version`, aggregates, flushes every 10 s and on exit, and does
 * nothing when tracing is not initialised or no agent listens. Every point also carries `replica`.
 */
export class DogStatsDMetrics implements Metrics {
  constructor(private readonly replica: string) {}

  increment(name: MetricName, tags: MetricTags = {}): void {
    tracer.dogstatsd.increment(name, 1, { ...tags, replica: this.replica });
  }

  distribution(name: MetricName, value: number, tags: MetricTags = {}): void {
    tracer.dogstatsd.distribution(name, value, { ...tags, replica: this.replica });
  }

  gauge(name: MetricName, value: number, tags: MetricTags = {}): void {
    tracer.dogstatsd.gauge(name, value, { ...tags, replica: this.replica });
  }
}

/** Records nothing (tests of the consumer alone). */
export const noMetrics: Metrics = { increment: () => undefined, distribution: () => undefined, gauge: () => undefined };
