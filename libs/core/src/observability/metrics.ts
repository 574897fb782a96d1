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
 * would turn the metrics off along with the traces.
 *
 * Counts and gauges are aggregated in process and sent once a second (and on {@link close}), as
 * dd-trace's client does: every losing replica counts `orders.skipped` on every message, and a
 * formatted datagram line per message cost 9 points of the 6-replica throughput in `npm run bench`.
 * Distributions (one per processed order) go out as they come, buffered into datagrams of at most
 * 1,432 bytes.
 */
export class DogStatsDMetrics implements Metrics {
  private readonly client: StatsD;
  private readonly counts = new Map<string, { name: MetricName; tags: MetricTags | undefined; value: number }>();
  private readonly gauges = new Map<string, { name: MetricName; tags: MetricTags | undefined; value: number }>();
  private readonly timer: NodeJS.Timeout;
  private errorReported = false;

  constructor(options: DogStatsDOptions) {
    this.client = new StatsD({
      host: options.host,
      port: options.port,
      globalTags: options.tags,
      // DD_ENV/DD_SERVICE/DD_VERSION are already in `tags`, with the services' own defaults.
      includeDataDogTags: false,
      maxBufferSize: 1432,
      bufferFlushInterval: FLUSH_INTERVAL_MS,
      errorHandler: (error) => {
        if (this.errorReported) return;
        this.errorReported = true;
        options.onError?.(error);
      },
    });
    this.timer = setInterval(() => this.flushAggregates(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  increment(name: MetricName, tags?: MetricTags): void {
    const key = aggregateKey(name, tags);
    const point = this.counts.get(key);
    if (point) point.value++;
    else this.counts.set(key, { name, tags, value: 1 });
  }

  distribution(name: MetricName, value: number, tags?: MetricTags): void {
    this.client.distribution(name, value, tags);
  }

  gauge(name: MetricName, value: number, tags?: MetricTags): void {
    const key = aggregateKey(name, tags);
    const point = this.gauges.get(key);
    if (point) point.value = value;
    else this.gauges.set(key, { name, tags, value });
  }

  /** Sends what is aggregated and buffered, and closes the socket. */
  close(): Promise<void> {
    clearInterval(this.timer);
    this.flushAggregates();
    return new Promise((resolve) => this.client.close(() => resolve()));
  }

  private flushAggregates(): void {
    for (const { name, tags, value } of this.counts.values()) this.client.increment(name, value, tags);
    for (const { name, tags, value } of this.gauges.values()) this.client.gauge(name, value, tags);
    this.counts.clear();
    this.gauges.clear();
  }
}

const FLUSH_INTERVAL_MS = 1000;

/** One aggregate per metric name and tag set (tags come from code, always in the same key order). */
function aggregateKey(name: string, tags: MetricTags | undefined): string {
  return tags === undefined ? name : `${name}${JSON.stringify(tags)}`;
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
