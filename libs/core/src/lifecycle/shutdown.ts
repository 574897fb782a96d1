import type { INestApplication } from '@nestjs/common';
import type { Logger } from 'pino';
import { LogEvent } from '../events';

/**
 * On SIGTERM/SIGINT: close the app (Nest runs onModuleDestroy → beforeApplicationShutdown → HTTP
 * close → onApplicationShutdown, which drains the consumer and quits Redis) and then let the event
 * loop empty so the process exits 0 on its own. Nest's `enableShutdownHooks` would instead re-raise
 * the signal (exit by signal) or call `process.exit()`, which skips dd-trace's `beforeExit` flush;
 * a last-resort timer still forces exit 0 if a handle stays open.
 */
export function exitOnSignals(app: INestApplication, logger: Logger, forceAfterMs: number): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    logger.info({ event: LogEvent.ServiceStopping, signal }, `received ${signal}; shutting down`);
    app
      .close()
      .then(() => {
        logger.info({ event: LogEvent.ServiceStopping, signal, stage: 'closed' }, 'shut down cleanly');
        setTimeout(() => process.exit(0), forceAfterMs).unref();
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
