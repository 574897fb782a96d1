/**
 * Starts dd-trace. Must run before anything else is loaded (each service's `src/instrumentation.ts`
 * is the first import of its `main.ts`), so dd-trace can hook ioredis, Fastify and pino as they load.
 * Imports nothing but dd-trace for that reason.
 *
 * Configuration is dd-trace's own `DD_*` environment (DD_ENV, DD_SERVICE, DD_VERSION, DD_AGENT_HOST,
 * DD_TRACE_AGENT_PORT, DD_TRACE_ENABLED, …). Three defaults differ from dd-trace's: the service name is
 * the service's own (dd-trace would take the workspace package name `@eo/order`), `env` is `local` as
 * in the logs, and log injection is on, so every JSON line carries `dd.trace_id`/`dd.span_id`. With no agent running, spans and
 * metrics are dropped quietly.
 */
import tracer from 'dd-trace';

/** Initialises dd-trace once for `defaultService` (overridden by `DD_SERVICE`). */
export function initTracing(defaultService: string): void {
  const env = process.env;
  tracer.init({
    service: env.DD_SERVICE ?? defaultService,
    // The same default as the log lines' `env`, so traces, metrics and logs share one env tag.
    env: env.DD_ENV ?? 'local',
    logInjection: env.DD_LOGS_INJECTION === undefined ? true : undefined,
  });
  // Script calls get spans of their own, named for the script (see DatadogTracing.traceScript in tracing.ts); the
  // generic ioredis spans ("evalsha") cost a quarter of the traced throughput in `npm run bench`.
  tracer.use('ioredis', false);
}
