import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { NestPinoLogger, installErrorHandling, type Logger } from '@eo/platform';
import { AppModule } from './app.module';
import type { OrderConfig } from './config';

/** Largest accepted request body; Fastify refuses bigger ones with 413 before any handler runs. */
export const BODY_LIMIT_BYTES = 65_536;

/**
 * Creates the order application, not yet listening. `main.ts` adds signal handling and listens on
 * `PORT`; tests listen on port 0 in-process.
 */
export async function createOrderApp(config: OrderConfig, logger: Logger): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config, logger),
    new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES }),
    // abortOnError off: a failed start must reach the caller as an error, not a process.abort().
    { logger: new NestPinoLogger(logger), abortOnError: false },
  );
  // One JSON error shape for everything, including Fastify's own invalid-JSON, 413 and 415 errors.
  installErrorHandling(app, logger);
  return app;
}
