import './instrumentation';
import { LogEvent } from '@eo/contract';
import { ConfigError, createLogger, exitOnConfigError, exitOnSignals, maskRedisUrl } from '@eo/platform';
import { createOrderApp } from './app';
import { loadOrderConfig } from './config';

/** Held `?waitMs` requests are released at shutdown, so closing needs little time (the chart's shutdown.forceExitAfterMs). */
const FORCE_EXIT_AFTER_MS = 5_000;

async function bootstrap(): Promise<void> {
  const config = loadOrderConfig(process.env);
  const logger = createLogger(config);
  const app = await createOrderApp(config, logger);
  // Not enableShutdownHooks(): Nest re-raises the signal after closing, so the pod would exit by
  // SIGTERM instead of 0 and dd-trace's beforeExit flush would be skipped.
  exitOnSignals(app, logger, FORCE_EXIT_AFTER_MS);
  await app.listen(config.port, '0.0.0.0');
  logger.info(
    {
      event: LogEvent.ServiceStarted,
      port: config.port,
      redis: maskRedisUrl(config.redisUrl),
      namespace: config.redisNamespace ?? null,
      recoveryGraceMs: config.recoveryGraceMs,
    },
    'order service started',
  );
}

bootstrap().catch((error: unknown) => {
  // REDIS_URL is parsed in full only when the connections are built, so a ConfigError can come late.
  if (error instanceof ConfigError) exitOnConfigError(error, 'order');
  const err = error instanceof Error ? { type: error.name, message: error.message, stack: error.stack } : { message: String(error) };
  process.stderr.write(
    `${JSON.stringify({ time: new Date().toISOString(), level: 'fatal', service: 'order', msg: 'order service failed to start', err })}\n`,
  );
  // Exit now: a half-built app may hold Redis connections that would keep retrying forever.
  process.exit(1);
});
