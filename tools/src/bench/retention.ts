/**
 * `npm run bench:retention`: Redis memory under a steady order rate with a short ORDER_RETENTION_MS.
 *
 * A private redis-server, the order service and 3 inventory replicas with `ORDER_RETENTION_MS`; a
 * steady open-loop POST /orders (each with its own Idempotency-Key) for `--minutes`; every 10 s
 * Redis's `used_memory` and how many orders it holds. Prints the samples, the bytes Redis holds per
 * retained order (order hash plus its Idempotency-Key), the sizing rule and whether memory stayed
 * flat once the first retention window had passed (printed, never asserted).
 *
 *   npm run bench:retention -- [--minutes 10] [--rate 200] [--retention-ms 60000]
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { OrderStore, type RedisKeys } from '@eo/contract';
import { RedisServer, SystemHarness } from '@eo/local';
import { pacedLoad } from './paced-load';

interface Options {
  minutes: number;
  rate: number;
  retentionMs: number;
}

import { int, parseCommandLine, runCli } from '../cli/command-line';

const USAGE = 'usage: npm run bench:retention -- [--minutes 10] [--rate 200] [--retention-ms 60000]';
const SAMPLE_MS = 10_000;
const SKUS = Array.from({ length: 8 }, (_, i) => `RETENTION-${i + 1}`);

function parseOptions(argv: string[]): Options | undefined {
  const { values, help } = parseCommandLine(argv, {
    minutes: int(1, 10_000, 10),
    rate: int(1, 100_000, 200),
    'retention-ms': int(1000, 2 ** 31, 60_000),
  });
  return help ? undefined : { minutes: values.minutes, rate: values.rate, retentionMs: values['retention-ms'] };
}

function say(message = ''): void {
  process.stdout.write(`${message}\n`);
}

interface Sample {
  seconds: number;
  usedMemory: number;
  orders: number;
}

async function sample(redis: Redis, keys: RedisKeys, startedAt: number): Promise<Sample> {
  const usedMemory = Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))?.[1]);
  return {
    seconds: Math.round((Date.now() - startedAt) / 1000),
    usedMemory,
    orders: (await new OrderStore(redis, keys).forEachId(Infinity, () => undefined)).seen,
  };
}

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MB`;

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (!options) return say(USAGE);
  const server = await RedisServer.start({ appendfsync: 'everysec' });
  let system: SystemHarness | undefined;
  const redis = server.client();
  try {
    system = await SystemHarness.start({
      redisServer: server,
      replicas: 3,
      env: { ORDER_RETENTION_MS: String(options.retentionMs), DD_TRACE_ENABLED: 'false', LOG_LEVEL: 'info' },
      keepLogs: { events: [] },
    });
    for (const sku of SKUS) await system.seedStock(sku, 1_000_000_000);
    const empty = await sample(redis, system.keys, Date.now());
    say(
      `${options.rate} orders/s for ${options.minutes} min, ORDER_RETENTION_MS=${options.retentionMs}, 3 replicas; ` +
        `Redis used_memory before: ${mb(empty.usedMemory)}`,
    );
    say('  time   used_memory   orders held');
    const samples: Sample[] = [];
    const startedAt = Date.now();
    const sampler = setInterval(() => {
      void sample(redis, system!.keys, startedAt).then((s) => {
        samples.push(s);
        say(`${String(s.seconds).padStart(5)} s   ${mb(s.usedMemory).padStart(9)}   ${String(s.orders).padStart(11)}`);
      });
    }, SAMPLE_MS);
    let n = 0;
    const load = await pacedLoad({
      url: system.orderUrl,
      path: '/orders',
      rate: options.rate,
      seconds: options.minutes * 60,
      connections: 32,
      next: () => ({
        headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
        body: JSON.stringify({ items: [{ sku: SKUS[n++ % SKUS.length], quantity: 1 }] }),
      }),
      onResponse: () => undefined,
    });
    clearInterval(sampler);
    say(`sent ${load.sent}, answered ${load.answered}, errors ${load.errors}; HTTP p99 ${load.latency.p99.toFixed(0)} ms`);

    // Once a whole retention window (plus a sample) has passed, as many orders expire as arrive.
    const steady = samples.filter((s) => s.seconds * 1000 >= options.retentionMs + 2 * SAMPLE_MS);
    if (steady.length < 3) {
      say('too few samples after the first retention window for a verdict: run longer than the retention');
      return;
    }
    const memory = steady.map((s) => s.usedMemory);
    const mean = memory.reduce((a, b) => a + b, 0) / memory.length;
    const spread = (Math.max(...memory) - Math.min(...memory)) / mean;
    const half = Math.floor(steady.length / 2);
    const firstHalf = memory.slice(0, half).reduce((a, b) => a + b, 0) / half;
    const secondHalf = memory.slice(half).reduce((a, b) => a + b, 0) / (memory.length - half);
    const held = steady.reduce((a, s) => a + s.orders, 0) / steady.length;
    const perOrder = (mean - empty.usedMemory) / held;
    say();
    say(
      `after the first retention window: used_memory ${mb(Math.min(...memory))}–${mb(Math.max(...memory))} ` +
        `(spread ${(spread * 100).toFixed(1)} % of its mean; second half vs first ${(((secondHalf - firstHalf) / firstHalf) * 100).toFixed(1)} %)`,
    );
    say(`orders held: ${Math.round(held)} on average (rate × retention = ${Math.round((options.rate * options.retentionMs) / 1000)})`);
    say(`bytes per retained order (order hash + Idempotency-Key + backlog/stock overhead): ${Math.round(perOrder)}`);
    say(
      `sizing: memory ≈ rate × ORDER_RETENTION_MS × ${Math.round(perOrder)} B (e.g. 10 orders/s for 7 days ≈ ${mb(10 * 7 * 86_400 * perOrder)})`,
    );
    say(`flat: ${Math.abs(secondHalf - firstHalf) / firstHalf < 0.05 ? 'yes' : 'NO'} (second half within 5 % of the first)`);
  } finally {
    redis.disconnect();
    await system?.stop();
    await server.stop();
  }
}

runCli(USAGE, main);
