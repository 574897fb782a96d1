import tracer from 'dd-trace';

/** The span of one replica's handling of one order (claim → work → commit), as the consumer sees it. */
export interface ProcessSpan {
  /** Sets a tag (`lock.outcome`, `order.outcome`, `order.attempt`, …). */
  setTag(key: string, value: string | number | boolean): void;
  /** Marks the span as failed with this error. */
  setError(error: unknown): void;
  /**
   * Adds a finished `redis.script` child span for a script call made before this span existed (the
   * claim, which runs untraced until it is known to be worth a span). Times are epoch milliseconds.
   */
  recordScript(script: string, startTime: number, finishTime: number): void;
}

/** Tracing as the exactly-once consumer needs it; narrow so the consumer can be tested without dd-trace. */
export interface OrderTracing {
  /**
   * Runs `fn` inside a new `order.process` span that continues the trace carried in `parent` (the
   * envelope's `trace`, or the headers stored with the order for backlog recoveries), or starts a
   * new trace when there is none. Never inherits whatever span happens to be active. `startTime`
   * (epoch milliseconds) backdates the span to when the claim was sent.
   */
  traceProcessing<T>(
    orderId: string,
    source: string,
    parent: Record<string, string> | undefined,
    startTime: number,
    fn: (span: ProcessSpan) => Promise<T>,
  ): Promise<T>;
}

/**
 * Epoch milliseconds with sub-millisecond precision, the clock span start and finish times use: of
 * now, or of an earlier `performance.now()` reading.
 */
export function epochMs(at: number = performance.now()): number {
  return performance.timeOrigin + at;
}

/** Propagation headers (Datadog and W3C) of the active span, for the envelope; undefined when tracing is off. */
export function activeTraceHeaders(): Record<string, string> | undefined {
  const span = tracer.scope().active();
  if (!span) return undefined;
  const carrier: Record<string, string> = {};
  tracer.inject(span, 'text_map', carrier);
  return Object.keys(carrier).length > 0 ? carrier : undefined;
}

/**
 * {@link OrderTracing} on dd-trace. The parent is passed explicitly: inside an ioredis subscriber's
 * `message` callback the active span is a long-finished connection span, and inheriting it would
 * put every message into one stale trace.
 */
export class DatadogOrderTracing implements OrderTracing {
  constructor(private readonly replica: string) {}

  traceProcessing<T>(
    orderId: string,
    source: string,
    parent: Record<string, string> | undefined,
    startTime: number,
    fn: (span: ProcessSpan) => Promise<T>,
  ): Promise<T> {
    const childOf = parent ? (tracer.extract('text_map', parent) ?? undefined) : undefined;
    // `childOf` is always passed, even undefined: dd-trace's trace() would otherwise inherit the
    // active span, which in a subscriber callback is a stale connection span.
    return tracer.trace(
      'order.process',
      {
        childOf,
        startTime,
        resource: 'OrderPlaced',
        type: 'worker',
        tags: { 'span.kind': 'consumer', 'order.id': orderId, 'order.source': source, replica: this.replica },
      },
      (span) =>
        fn({
          setTag: (key, value) => span?.setTag(key, value),
          setError: (error) => span?.setTag('error', error instanceof Error ? error : new Error(String(error))),
          recordScript: (script, scriptStart, scriptFinish) => {
            if (!span) return;
            tracer.startSpan('redis.script', { childOf: span, startTime: scriptStart, tags: scriptSpanTags(script) }).finish(scriptFinish);
          },
        }),
    );
  }
}

/** Tracing off (tests of the consumer alone). */
export const noTracing: OrderTracing = {
  traceProcessing: (_orderId, _source, _parent, _startTime, fn) =>
    fn({ setTag: () => undefined, setError: () => undefined, recordScript: () => undefined }),
};

/**
 * Runs one Lua script call inside a `redis.script` span named for the script (`claim-order`), as a
 * child of the active span; with no active span (a bare sweep tick) it runs untraced rather than
 * start a trace of its own. Replaces dd-trace's ioredis instrumentation (turned off in
 * `instrumentation.ts`), whose spans say only `evalsha`, cost more, and opened a one-span trace on
 * every sweep tick of every replica.
 */
export function traceScript<T>(script: string, call: () => Promise<T>): Promise<T> {
  if (!tracer.scope().active()) return call();
  return tracer.trace('redis.script', { tags: scriptSpanTags(script) }, () => call());
}

/** Tags of a `redis.script` span: resource and type the way `tracer.trace` options would set them. */
function scriptSpanTags(script: string): Record<string, string> {
  return { 'resource.name': script, 'span.type': 'redis', 'db.type': 'redis', 'redis.script': script };
}

/** Runs `fn` with no active span, so nothing in it inherits a stale one (timer and connection callbacks). */
export function withoutActiveSpan<T>(fn: () => T): T {
  return tracer.scope().activate(null as unknown as Parameters<ReturnType<typeof tracer.scope>['activate']>[0], fn);
}
