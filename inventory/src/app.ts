import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { installErrorHandling, type Logger, NestPinoLogger } from '@eo/platform';
import { AppModule } from './app.module';
import type { InventoryConfig } from './config';

/** Creates (but does not start listening) one inventory replica; used by main.ts and the tests. */
export async function createInventoryApp(config: InventoryConfig, logger: Logger): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config, logger),
    new FastifyAdapter({ bodyLimit: 65_536 }),
    {
      logger: new NestPinoLogger(logger),
    },
  );
  installErrorHandling(app, logger);
  return app;
}
