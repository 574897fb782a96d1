import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Redis } from 'ioredis';
import { buildEnvelope, RedisKeys } from '@eo/contract';
import { sleep } from '@eo/exactly-once';
import { createLogger } from '@eo/platform';
import { RedisServer } from '@eo/local';
import { OrderLifecycleScripts } from '@eo/test-support';
import { createInventoryApp } from '../src/app';
import { loadInventoryConfig } from '../src/config';

type LogLine = Record<string, unknown>;

interface Replica {
  app: NestFastifyApplication;
  url: string;
  logs: LogLine[];
}

let server: RedisServer;
let redis: Redis;
const keys = new RedisKeys();
let scripts: OrderLifecycleScripts;
let replicas: Replica[] = [];

async function startReplica(name: string): Promise<Replica> {
  const config = loadInventoryConfig({
    // debug: the losing replica's skip (reason locked) is a debug line.
    LOG_LEVEL: 'debug',
    REDIS_URL: server.url,
    PORT: '0',
    REPLICA_NAME: name,
    SWEEP_INTERVAL_MS: '100',
    LOCK_TTL_MS: '1000',
  });
  const logs: LogLine[] = [];
  const app = await createInventoryApp(
    config,
    createLogger(config, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) }),
  );
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}`, logs };
}

async function call(
  method: string,
  path: string,
  body?: unknown,
  replica = replicas[0],
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${replica.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function waitForReady(replica: Replica, expected: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (
    (await fetch(`${replica.url}/health/ready`).then(
      (r) => r.status,
      () => 0,
    )) !== expected
  ) {
    if (Date.now() > deadline) throw new Error(`readiness never became ${expected}`);
    await sleep(50);
  }
}

beforeAll(async () => {
  server = await RedisServer.start();
  redis = server.client();
  scripts = new OrderLifecycleScripts(redis, keys);
  replicas = [await startReplica('inventory-0'), await startReplica('inventory-1')];
  await Promise.all(replicas.map((r) => waitForReady(r, 200)));
});
afterAll(async () => {
  await Promise.all(replicas.map((r) => r.app.close()));
  redis.disconnect();
  await server.stop();
});

describe('stock API', () => {
  it('sets, reads and lists stock, from any replica', async () => {
    expect(await call('PUT', '/inventory/B-2', { available: 7 })).toEqual({ status: 200, body: { sku: 'B-2', available: 7, reserved: 0 } });
    await call('PUT', '/inventory/A-1', { available: 3 });
    expect(await call('GET', '/inventory/B-2', undefined, replicas[1])).toEqual({
      status: 200,
      body: { sku: 'B-2', available: 7, reserved: 0 },
    });
    const page1 = await call('GET', '/inventory?limit=1');
    expect(page1.body).toEqual({ items: [{ sku: 'A-1', available: 3, reserved: 0 }], nextCursor: 'A-1' });
    const page2 = await call('GET', '/inventory?limit=1&cursor=A-1');
    expect(page2.body).toEqual({ items: [{ sku: 'B-2', available: 7, reserved: 0 }], nextCursor: 'B-2' });
    expect((await call('GET', '/inventory?limit=1&cursor=B-2')).body).toEqual({ items: [], nextCursor: null });
  });

  it('answers 404 for a SKU never stocked', async () => {
    expect(await call('GET', '/inventory/NOPE')).toMatchObject({ status: 404, body: { statusCode: 404 } });
  });

  it.each([
    ['a negative amount', '/inventory/A-1', { available: -1 }, 'available'],
    ['a fraction', '/inventory/A-1', { available: 1.5 }, 'available'],
    ['a string', '/inventory/A-1', { available: '3' }, 'available'],
    ['an unknown field', '/inventory/A-1', { available: 1, reserved: 4 }, 'reserved'],
    ['a bad SKU', '/inventory/bad%20sku', { available: 1 }, 'sku'],
    ['not an object', '/inventory/A-1', [1], 'body'],
    ['invalid JSON', '/inventory/A-1', '{"available":', 'body'],
  ])('refuses %s with a 400 naming the field', async (_what, path, body, field) => {
    const response = await call('PUT', path, body);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ statusCode: 400, field });
    expect(String(response.body.message).startsWith(field)).toBe(true);
  });

  it('refuses a bad page size naming limit', async () => {
    expect(await call('GET', '/inventory?limit=0')).toMatchObject({ status: 400, body: { field: 'limit' } });
  });
});

describe('order processing across two in-process replicas', () => {
  it('reserves an accepted order exactly once and logs one order.processed', async () => {
    await call('PUT', '/inventory/P-1', { available: 10 });
    const createdAt = new Date().toISOString();
    const items = [{ sku: 'P-1', quantity: 4 }];
    await scripts.accept({
      orderId: 'inv-http-1',
      items,
      bodyHash: 'h',
      createdAt,
      envelope: JSON.stringify(buildEnvelope('inv-http-1', items, createdAt)),
      recoveryGraceMs: 60_000,
      idempotencyTtlSeconds: 60,
    });
    const deadline = Date.now() + 5000;
    while ((await redis.hget(keys.order('inv-http-1'), 'status')) === 'PENDING' && Date.now() < deadline) await sleep(20);
    expect(await call('GET', '/inventory/P-1')).toMatchObject({ body: { available: 6, reserved: 4 } });
    const processed = replicas.flatMap((r) => r.logs).filter((l) => l.event === 'order.processed' && l.orderId === 'inv-http-1');
    expect(processed).toHaveLength(1);
    const skipped = replicas.flatMap((r) => r.logs).filter((l) => l.event === 'order.skipped' && l.orderId === 'inv-http-1');
    expect(skipped).toHaveLength(1);
  });
});

describe('readiness', () => {
  it('turns 503 while Redis is away and 200 again once it is back and re-subscribed', async () => {
    await server.stop({ keepData: true });
    await waitForReady(replicas[0], 503);
    expect((await call('GET', '/health/live')).status).toBe(200);
    await server.restart();
    await waitForReady(replicas[0], 200, 15_000);
    await waitForReady(replicas[1], 200, 15_000);
  });
});
