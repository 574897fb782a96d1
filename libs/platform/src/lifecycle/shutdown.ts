import type { INestApplication } from '@nestjs/common';
import type { Logger } from 'pino';
import { LogEvent } from '@eo/contract';

/** A second signal this soon after the first is the same request (a terminal's Ctrl-C often arrives twice). */
const SAME_REQUEST_MS = 1000;

/**
 * On SIGTERM/SIGINT: close the app (Nest runs onModuleDestroy → beforeApplicationShutdown → HTTP
 * close → onApplicationShutdown, which drains the consumer and quits Redis) and then let the event
 * loop empty so the process exits 0 on its own. Nest's `enableShutdownHooks` would instead re-raise
 * the signal (exit by signal) or call `process.exit()`, which skips dd-trace's `beforeExit` flush.
 *
 * The last-resort exit is armed when the signal arrives, not when the close returns: a close that
 * never returns, or a handle left open, must not keep the process past `forceAfterMs` (exit 0 if the
 * close had finished, 1 otherwise). A second signal within a second is the same request; a later
 * one exits at once (1).
 */
export function exitOnSignals(app: INestApplication, logger: Logger, forceAfterMs: number): void {
  let firstAt: number | undefined;
  let closed = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (firstAt !== undefined) {
      if (Date.now() - firstAt < SAME_REQUEST_MS) return;
      logger.warn({ event: LogEvent.ServiceStopping, signal, stage: 'forced' }, `${signal} again: exiting now`);
      process.exit(1);
    }
    firstAt = Date.now();
    logger.info({ event: LogEvent.ServiceStopping, signal }, `received ${signal}; shutting down`);
    setTimeout(() => {
      logger.warn(
        { event: LogEvent.ServiceStopping, signal, stage: 'timeout', closed },
        `still running ${forceAfterMs} ms after ${signal}; exiting`,
      );
      process.exit(closed ? 0 : 1);
    }, forceAfterMs).unref();
    app
      .close()
      .then(() => {
        closed = true;
        logger.info({ event: LogEvent.ServiceStopping, signal, stage: 'closed' }, 'shut down cleanly');
      })
      .catch((err: unknown) => {
        logger.error({ event: LogEvent.ServiceStopping, err }, 'error during shutdown');
        process.exitCode = 1;
        setTimeout(() => process.exit(1), 100).unref();
      });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** Writes a fatal JSON line naming the bad variable and exits 1 (used before the logger exists). */
export function exitOnConfigError(error: unknown, service: string): never {
  const variable = (error as { variable?: string }).variable;
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(
    `${JSON.stringify({ time: new Date().toISOString(), level: 'fatal', service, msg: `invalid configuration: ${message}`, variable })}\n`,
  );
  process.exit(1);
}
