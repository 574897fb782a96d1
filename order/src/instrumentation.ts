// Loaded first by main.ts: dd-trace must hook ioredis, Fastify and pino before they are required.
import { initTracing } from '@eo/platform/instrumentation';

initTracing('order');
