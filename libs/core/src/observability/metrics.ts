import tracer from 'dd-trace';
import { StatsD } from 'hot-shots';

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

/** Where {@link DogStatsDMetrics} sends, and the tags on every point. */
export interface DogStatsDOptions {
  host: string;
  port: number;
  /** Unified service tags (`service`, `env`, `version`) and `replica`. */
  tags: Record<string, string>;
  /** Told once when sending fails (no agent is not a failure: UDP just drops). */
  onError?: (error: Error) => void;
}

/**
 * {@link Metrics} over DogStatsD (UDP, hot-shots) to the Datadog Agent, with the unified service tags
 * and `replica` on every point. Used when tracing is off: dd-trace's own client is then a no-op and
 * would turn the metrics off along with the traces. Points are buffered into datagrams of at most
 * 1,432 bytes and flushed every second and on {@link close}.
 */
export class DogStatsDMetrics implements Metrics {
  private readonly client: StatsD;
  private errorReported = false;

  constructor(options: DogStatsDOptions) {
    this.client = new StatsD({
      host: options.host,
      port: options.port,
      globalTags: options.tags,
      // DD_ENV/DD_SERVICE/DD_VERSION are already in `tags`, with the services' own defaults.
      includeDataDogTags: false,
      maxBufferSize: 1432,
      bufferFlushInterval: 1000,
      errorHandler: (error) => {
        if (this.errorReported) return;
        this.errorReported = true;
        options.onError?.(error);
      },
    });
  }

  increment(name: MetricName, tags?: MetricTags): void {
    this.client.increment(name, 1, tags);
  }

  distribution(name: MetricName, value: number, tags?: MetricTags): void {
    this.client.distribution(name, value, tags);
  }

  gauge(name: MetricName, value: number, tags?: MetricTags): void {
    this.client.gauge(name, value, tags);
  }

  /** Sends what is buffered and closes the socket. */
  close(): Promise<void> {
    return new Promise((resolve) => this.client.close(() => resolve()));
  }
}

/**
 * {@link Metrics} through dd-trace's DogStatsD client, used when tracing is on: it follows every
 * transport dd-trace is configured for (UDP to `DD_AGENT_HOST:DD_DOGSTATSD_PORT`, or through the
 * trace agent when `DD_TRACE_AGENT_URL` is a Unix socket, as the admission controller's socket mode
 * sets it), adds `service`, `env` and `version`, aggregates, and flushes every 10 s and on exit.
 * Every point also carries `replica`.
 */
export class TracerMetrics implements Metrics {
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

  close(): Promise<void> {
    tracer.dogstatsd.flush();
    return Promise.resolve();
  }
}

export const noMetrics: Metrics = { increment: () => undefined, distribution: () => undefined, gauge: () => undefined };
