import './instrumentation';
import { LogEvent } from '@eo/contract';
import { createLogger, exitOnConfigError, exitOnSignals, maskRedisUrl } from '@eo/platform';
import { createInventoryApp } from './app';
import { type InventoryConfig, loadInventoryConfig } from './config';

async function bootstrap(): Promise<void> {
  let config: InventoryConfig;
  try {
    config = loadInventoryConfig(process.env);
  } catch (error) {
    exitOnConfigError(error, 'inventory');
  }
  const logger = createLogger(config);
  const app = await createInventoryApp(config, logger);
  // The drain deadline, then as long again as the chart's shutdown.forceExitAfterMs for closing.
  exitOnSignals(app, logger, config.shutdownTimeoutMs + 5_000);
  await app.listen(config.port, '0.0.0.0');
  if (config.failSkuPrefix !== undefined) {
    logger.warn({ failSkuPrefix: config.failSkuPrefix }, 'TEST-ONLY fault injection is on: orders with these SKUs fail');
  }
  logger.info(
    {
      event: LogEvent.ServiceStarted,
      port: config.port,
      redis: maskRedisUrl(config.redisUrl),
      namespace: config.redisNamespace ?? null,
      lockTtlMs: config.lockTtlMs,
      sweepIntervalMs: config.sweepIntervalMs,
    },
    'inventory replica started',
  );
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(
    `${JSON.stringify({ time: new Date().toISOString(), level: 'fatal', service: 'inventory', msg: 'failed to start', err: String(error) })}\n`,
  );
  process.exit(1);
});
