/**
 * Measures NestJS's two HTTP adapters on the order service's hot path (parse a JSON body, validate
 * the items, answer 202) so the choice of adapter rests on a figure, not on folklore. Redis is left
 * out on purpose: it costs the same under both adapters.
 *
 *   npm run bench:adapters -- --seconds 10 --connections 64
 */
import 'reflect-metadata';
import { fork } from 'node:child_process';
import { Body, Controller, HttpCode, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import autocannon from 'autocannon';
import { validateItems } from '@eo/contract';
import { FieldValidationException } from '@eo/platform';
import { choice, int, parseCommandLine, runCli } from '../cli/command-line';

const USAGE = 'usage: npm run bench:adapters -- [--seconds 8] [--connections 64]';

type AdapterName = 'fastify' | 'express';

@Controller('orders')
class BenchOrdersController {
  @Post()
  @HttpCode(202)
  accept(@Body() body: unknown): { orderId: string; status: string } {
    const items = validateItems((body as { items?: unknown } | null)?.items);
    if (!items.ok) throw new FieldValidationException(items.error);
    return { orderId: 'bench', status: 'PENDING' };
  }
}

@Module({ controllers: [BenchOrdersController] })
class BenchModule {}

async function serve(adapter: AdapterName): Promise<void> {
  const app =
    adapter === 'fastify'
      ? await NestFactory.create(BenchModule, new FastifyAdapter({ bodyLimit: 65_536 }), { logger: false })
      : await NestFactory.create(BenchModule, new ExpressAdapter(), { logger: false, bodyParser: true });
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  process.send?.({ url: url.replace('[::1]', '127.0.0.1') });
}

interface Row {
  adapter: AdapterName;
  reqPerSec: number;
  p50: number;
  p99: number;
}

async function measure(adapter: AdapterName, seconds: number, connections: number): Promise<Row> {
  const child = fork(__filename, ['--serve', adapter], { stdio: 'inherit' });
  const url = await new Promise<string>((resolve) => child.once('message', (m: { url: string }) => resolve(m.url)));
  const result = await autocannon({
    url: `${url}/orders`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      items: [
        { sku: 'A-1', quantity: 2 },
        { sku: 'B-2', quantity: 1 },
      ],
    }),
    connections,
    duration: seconds,
  });
  child.kill('SIGTERM');
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${adapter}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { adapter, reqPerSec: Math.round(result.requests.average), p50: result.latency.p50, p99: result.latency.p99 };
}

async function main(): Promise<void> {
  const { values, help } = parseCommandLine(process.argv.slice(2), {
    serve: choice<AdapterName>(['fastify', 'express'], 'fastify'),
    seconds: int(1, 3600, 8),
    connections: int(1, 1000, 64),
  });
  if (help) return console.log(USAGE);
  // A child of this bench: serve one adapter until killed.
  if (process.argv.includes('--serve')) return serve(values.serve);
  const { seconds, connections } = values;
  const rows: Row[] = [];
  // Alternate the adapters so drift on a shared, noisy machine hits both alike.
  for (const adapter of ['fastify', 'express', 'fastify', 'express'] as const) rows.push(await measure(adapter, seconds, connections));
  console.table(rows);
  const avg = (a: AdapterName) => rows.filter((r) => r.adapter === a).reduce((s, r) => s + r.reqPerSec, 0) / 2;
  console.log(
    `fastify / express throughput: ${(avg('fastify') / avg('express')).toFixed(2)}x (${seconds}s × ${connections} connections each run)`,
  );
}

runCli(USAGE, main);
