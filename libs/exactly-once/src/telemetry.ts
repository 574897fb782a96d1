/**
 * What the engine needs from logging, metrics and tracing: narrow interfaces, so the engine imports
 * no logger, metrics client or tracer (pino, DogStatsD and dd-trace satisfy them in the services),
 * and tests can pass the no-op ones.
 */

/** Structured logging, as pino does it: fields first, then the message. */
export interface Logger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** Tag values of one metric point (`outcome`, `reason`, `stage`, …). */
export type MetricTags = Record<string, string>;

/** Counters, distributions and gauges by name. */
export interface Metrics {
  increment(name: string, tags?: MetricTags): void;
  distribution(name: string, value: number, tags?: MetricTags): void;
  gauge(name: string, value: number, tags?: MetricTags): void;
}

/** Metrics off. */
export const noMetrics: Metrics = { increment: () => undefined, distribution: () => undefined, gauge: () => undefined };

/** The span of one worker's handling of one record (claim → work → commit). */
export interface ProcessSpan {
  setTag(key: string, value: string | number | boolean): void;
  setError(error: unknown): void;
  /** Adds a finished child span for a script call made before this span existed (the claim). Epoch ms. */
  recordScript(script: string, startTime: number, finishTime: number): void;
}

/** What the engine asks of a tracer. */
export interface Tracing {
  /**
   * Runs `fn` in a new processing span continuing the trace in `parent` (the message's propagation
   * headers, or those stored with the record), or a new trace; never the span active by accident.
   * `startTime` (epoch ms) backdates it to when the claim was sent.
   */
  traceProcessing<T>(
    job: { id: string; type: string; source: string },
    parent: Record<string, string> | undefined,
    startTime: number,
    fn: (span: ProcessSpan) => Promise<T>,
  ): Promise<T>;
  /** Runs one script call in a child span of the active span (untraced with none active). */
  traceScript<T>(script: string, call: () => Promise<T>): Promise<T>;
  /** Runs `fn` with no active span (timer and connection callbacks carry stale ones). */
  detached<T>(fn: () => T): T;
}

/** Tracing off. */
export const noTracing: Tracing = {
  traceProcessing: (_job, _parent, _startTime, fn) =>
    fn({ setTag: () => undefined, setError: () => undefined, recordScript: () => undefined }),
  traceScript: (_script, call) => call(),
  detached: (fn) => fn(),
};

/**
 * Epoch milliseconds with sub-millisecond precision, the clock span times use: of now, or of an
 * earlier `performance.now()` reading.
 */
export function epochMs(at: number = performance.now()): number {
  return performance.timeOrigin + at;
}
