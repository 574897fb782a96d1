import tracer from 'dd-trace';
import type { ProcessSpan, Tracing } from '@eo/exactly-once';

/** Propagation headers (Datadog and W3C) of the active span, for the envelope; undefined when tracing is off. */
export function activeTraceHeaders(): Record<string, string> | undefined {
  const span = tracer.scope().active();
  if (!span) return undefined;
  const carrier: Record<string, string> = {};
  tracer.inject(span, 'text_map', carrier);
  return Object.keys(carrier).length > 0 ? carrier : undefined;
}

/**
 * The engine's {@link Tracing} on dd-trace: an `<entity>.process` span per handled record, a
 * `redis.script` span per script call. The parent is passed explicitly: inside an ioredis
 * subscriber's `message` callback the active span is a long-finished connection span, and
 * inheriting it would put every message into one stale trace.
 */
export class DatadogTracing implements Tracing {
  constructor(
    /** This process's replica name, a tag on every processing span. */
    private readonly replica: string,
    /** Singular noun of the records: span `order.process`, tags `order.id`, `order.source`. */
    private readonly entity = 'order',
  ) {}

  traceProcessing<T>(
    job: { id: string; type: string; source: string },
    parent: Record<string, string> | undefined,
    startTime: number,
    fn: (span: ProcessSpan) => Promise<T>,
  ): Promise<T> {
    const childOf = parent ? (tracer.extract('text_map', parent) ?? undefined) : undefined;
    // `childOf` is always passed, even undefined: dd-trace's trace() would otherwise inherit the
    // active span, which in a subscriber callback is a stale connection span.
    return tracer.trace(
      `${this.entity}.process`,
      {
        childOf,
        startTime,
        resource: job.type,
        type: 'worker',
        tags: { 'span.kind': 'consumer', [`${this.entity}.id`]: job.id, [`${this.entity}.source`]: job.source, replica: this.replica },
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

  /**
   * Runs one Lua script call inside a `redis.script` span named for the script (`claim`), as a
   * child of the active span; with no active span (a bare sweep tick) it runs untraced rather than
   * start a trace of its own. Replaces dd-trace's ioredis instrumentation (turned off in
   * `instrumentation.ts`), whose spans say only `evalsha`, cost more, and opened a one-span trace on
   * every sweep tick of every replica.
   */
  traceScript<T>(script: string, call: () => Promise<T>): Promise<T> {
    if (!tracer.scope().active()) return call();
    return tracer.trace('redis.script', { tags: scriptSpanTags(script) }, () => call());
  }

  /** Runs `fn` with no active span, so nothing in it inherits a stale one (timer and connection callbacks). */
  detached<T>(fn: () => T): T {
    return tracer.scope().activate(null as unknown as Parameters<ReturnType<typeof tracer.scope>['activate']>[0], fn);
  }
}

/** Tags of a `redis.script` span: resource and type the way `tracer.trace` options would set them. */
function scriptSpanTags(script: string): Record<string, string> {
  return { 'resource.name': script, 'span.type': 'redis', 'db.type': 'redis', 'redis.script': script };
}
