import type { Redis } from 'ioredis';
import { RedisServer } from '@eo/local';
import { buildEnvelope, decodeOrderMessage, ORDER_VOCABULARY, type OrderItem, parseStoredItems, RedisKeys } from '@eo/contract';
import { type ConsumerTuning, ExactlyOnceConsumer, type Job, ScriptClient, sleep, WorkQueue } from '@eo/exactly-once';
import { StockScripts, toCommitResult } from '@eo/inventory/scripts';
import { createLogger } from '@eo/platform';
import { OrderLifecycleScripts } from '../support';

/** The work between claim and commit, as the inventory's reservation service sees an order. */
type OrderWork = (
  order: { orderId: string; items: OrderItem[]; attempt: number; source: Job['source'] },
  signal: AbortSignal,
) => Promise<void>;

type LogLine = Record<string, unknown> & { event?: string; orderId?: string; replica?: string };

let server: RedisServer;
let admin: Redis;
const clients: Redis[] = [];
const running: ExactlyOnceConsumer[] = [];
let testNo = 0;

beforeAll(async () => {
  server = await RedisServer.start();
  admin = server.client();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
  for (const c of clients.splice(0)) c.disconnect();
});
afterAll(async () => {
  admin.disconnect();
  await server.stop();
});

/** Each test gets its own namespace so backlogs never mix. */
function namespace(): RedisKeys {
  return new RedisKeys(`c${++testNo}`);
}

const baseOptions: ConsumerTuning = {
  lockTtlMs: 1000,
  sweepIntervalMs: 100,
  sweepBatch: 50,
  maxAttempts: 3,
  retryBaseMs: 20,
  retryMaxMs: 100,
  shutdownTimeoutMs: 2000,
};

function client(): Redis {
  const c = server.client();
  clients.push(c);
  return c;
}

/** Starts one in-process replica that logs into `logs`. */
async function startReplica(
  keys: RedisKeys,
  replica: string,
  logs: LogLine[],
  work: OrderWork = async () => undefined,
  options: Partial<ConsumerTuning> = {},
): Promise<ExactlyOnceConsumer> {
  const logger = createLogger(
    { service: 'inventory', env: 'test', version: '0', replica, logLevel: 'debug' },
    { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) },
  );
  // What the inventory's OrderWorker wires, with `work` in place of its reservation service.
  const scripts = new ScriptClient(client());
  const stock = new StockScripts(scripts, keys);
  const consumer = new ExactlyOnceConsumer({
    ...baseOptions,
    ...options,
    worker: replica,
    queue: new WorkQueue(scripts, keys, 7 * 24 * 3_600_000),
    subscriber: client(),
    channel: keys.orderUpdatesChannel,
    decode: decodeOrderMessage,
    vocabulary: ORDER_VOCABULARY,
    logger,
    handlers: [
      {
        type: 'OrderPlaced',
        status: 'PENDING',
        fields: ['items'],
        process: (job, signal) =>
          work({ orderId: job.id, items: parseStoredItems(job.fields.items), attempt: job.attempt, source: job.source }, signal),
        commit: async (job, fence) => toCommitResult(await stock.reserve(fence, parseStoredItems(job.fields.items))),
      },
    ],
  });
  await consumer.start();
  running.push(consumer);
  return consumer;
}

async function placeOrder(keys: RedisKeys, orderId: string, items: OrderItem[], graceMs = 60_000): Promise<string> {
  const scripts = new OrderLifecycleScripts(admin, keys);
  const createdAt = new Date().toISOString();
  await scripts.accept({
    orderId,
    items,
    bodyHash: orderId,
    createdAt,
    envelope: JSON.stringify(buildEnvelope(orderId, items, createdAt)),
    recoveryGraceMs: graceMs,
    idempotencyTtlSeconds: 60,
  });
  return orderId;
}

async function seedStock(keys: RedisKeys, sku: string, n: number): Promise<void> {
  await new OrderLifecycleScripts(admin, keys).setStock(sku, n);
}

async function waitUntil(what: string, predicate: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function statuses(keys: RedisKeys, ids: string[]): Promise<string[]> {
  const pipeline = admin.pipeline();
  for (const id of ids) pipeline.hget(keys.order(id), 'status');
  return ((await pipeline.exec()) ?? []).map(([, v]) => String(v));
}

const processedCount = (logs: LogLine[], orderId: string): number =>
  logs.filter((l) => l.event === 'order.processed' && l.orderId === orderId).length;

/** A replica logs `order.processed` just after its commit returns: wait for the lines, not only the status. */
async function waitForProcessedLogs(logs: LogLine[], ids: string[]): Promise<void> {
  await waitUntil('order.processed lines', () => ids.every((id) => processedCount(logs, id) >= 1));
  await sleep(100); // room for a (wrong) second line to show up before the counts are checked
}

describe('ExactlyOnceConsumer with three replicas on a real Redis', () => {
  it('processes each of 300 concurrent orders exactly once over a scarce SKU without overselling', async () => {
    const keys = namespace();
    const logs: LogLine[] = [];
    await seedStock(keys, 'SCARCE', 100);
    await seedStock(keys, 'PLENTY', 1_000_000);
    await Promise.all(['r0', 'r1', 'r2'].map((r) => startReplica(keys, r, logs)));
    const ids = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        placeOrder(keys, `o${i}`, [
          { sku: 'SCARCE', quantity: 1 + (i % 2) },
          { sku: 'PLENTY', quantity: 1 },
        ]),
      ),
    );
    await waitUntil('all orders terminal', async () => (await statuses(keys, ids)).every((s) => s !== 'PENDING'));
    await waitForProcessedLogs(logs, ids);

    for (const id of ids) expect(processedCount(logs, id)).toBe(1);
    const scarce = await admin.hgetall(keys.stock('SCARCE'));
    expect(Number(scarce.available)).toBeGreaterThanOrEqual(0);
    expect(Number(scarce.available) + Number(scarce.reserved)).toBe(100);
    const final = await statuses(keys, ids);
    const reservedQty = ids.reduce((sum, _id, i) => sum + (final[i] === 'RESERVED' ? 1 + (i % 2) : 0), 0);
    expect(Number(scarce.reserved)).toBe(reservedQty);
    expect(final.filter((s) => s === 'REJECTED').length).toBeGreaterThan(0);
    expect(await admin.zcard(keys.pending)).toBe(0);
    // Every replica saw every message: the losers logged a skip.
    expect(logs.filter((l) => l.event === 'order.skipped').length).toBeGreaterThan(0);
  });

  it('applies an order once however often its envelope is published, also late after completion', async () => {
    const keys = namespace();
    const logs: LogLine[] = [];
    await seedStock(keys, 'DUP', 10);
    await Promise.all(['r0', 'r1'].map((r) => startReplica(keys, r, logs)));
    const id = await placeOrder(keys, 'dup-1', [{ sku: 'DUP', quantity: 3 }]);
    const envelope = JSON.stringify(buildEnvelope(id, [{ sku: 'DUP', quantity: 3 }], new Date().toISOString()));
    await Promise.all(Array.from({ length: 5 }, () => admin.publish(keys.orderUpdatesChannel, envelope)));
    await waitUntil('terminal', async () => (await statuses(keys, [id]))[0] === 'RESERVED');
    await waitForProcessedLogs(logs, [id]);
    await admin.publish(keys.orderUpdatesChannel, envelope);
    await sleep(200);
    expect(processedCount(logs, id)).toBe(1);
    expect(await admin.hgetall(keys.stock('DUP'))).toEqual({ available: '7', reserved: '3' });
    expect(logs.some((l) => l.event === 'order.skipped' && l.reason === 'already_processed')).toBe(true);
  });

  it('drops malformed messages with message.invalid and keeps processing', async () => {
    const keys = namespace();
    const logs: LogLine[] = [];
    await seedStock(keys, 'M', 5);
    await startReplica(keys, 'r0', logs);
    for (const bad of [
      'not json',
      '[]',
      '{"v":2}',
      '{"v":1,"type":"OrderPlaced","orderId":"x","items":[],"createdAt":"2026-01-01T00:00:00Z"}',
    ]) {
      await admin.publish(keys.orderUpdatesChannel, bad);
    }
    const id = await placeOrder(keys, 'after-garbage', [{ sku: 'M', quantity: 1 }]);
    await waitUntil('terminal', async () => (await statuses(keys, [id]))[0] === 'RESERVED');
    expect(logs.filter((l) => l.event === 'message.invalid')).toHaveLength(4);
  });

  it('recovers orders accepted while no replica listened, through the backlog sweep', async () => {
    const keys = namespace();
    const logs: LogLine[] = [];
    await seedStock(keys, 'LATE', 1000);
    const ids = await Promise.all(Array.from({ length: 50 }, (_, i) => placeOrder(keys, `late-${i}`, [{ sku: 'LATE', quantity: 1 }], 0)));
    await Promise.all(['r0', 'r1', 'r2'].map((r) => startReplica(keys, r, logs)));
    await waitUntil('all terminal', async () => (await statuses(keys, ids)).every((s) => s === 'RESERVED'));
    await waitForProcessedLogs(logs, ids);
    for (const id of ids) expect(processedCount(logs, id)).toBe(1);
    expect(logs.filter((l) => l.event === 'order.recovered').length).toBeGreaterThanOrEqual(50);
    expect(await admin.hgetall(keys.stock('LATE'))).toEqual({ available: '950', reserved: '50' });
  });

  it('aborts work whose lock was taken over and never commits it (lease_lost)', async () => {
    const keys = namespace();
    const logs: LogLine[] = [];
    await seedStock(keys, 'L', 5);
    let started!: () => void;
    const workStarted = new Promise<void>((resolve) => (started = resolve));
    await startReplica(keys, 'r0', logs, async (_order, signal) => {
      started();
      await sleep(5000, signal);
    });
    const id = await placeOrder(keys, 'stolen', [{ sku: 'L', quantity: 1 }]);
    await workStarted;
    await admin.set(keys.lock(id), 'someone-else', 'PX', 5000);
    await waitUntil('lease_lost logged', () => logs.some((l) => l.event === 'order.lease_lost' && l.orderId === id), 3000);
    expect(await admin.hget(keys.order(id), 'status')).toBe('PENDING');
    expect(await admin.get(keys.lock(id))).toBe('someone-else');
    expect(await admin.hgetall(keys.stock('L'))).toEqual({ available: '5', reserved: '0' });
  });

  it('retries failing work with backoff and marks the order FAILED in orders:dead after MAX_ATTEMPTS', async () => {
    const keys = namespace();
    const logs: LogLine[] = [];
    await startReplica(keys, 'r0', logs, async () => {
      throw new Error('downstream refused');
    });
    const id = await placeOrder(keys, 'doomed', [{ sku: 'X', quantity: 1 }], 0);
    await waitUntil('FAILED', async () => (await statuses(keys, [id]))[0] === 'FAILED');
    expect(await admin.hget(keys.order(id), 'attempts')).toBe('3');
    expect(await admin.zscore(keys.dead, id)).not.toBeNull();
    expect(logs.filter((l) => l.event === 'order.retry_scheduled' && l.orderId === id)).toHaveLength(2);
    expect(logs.filter((l) => l.event === 'order.failed' && l.orderId === id)).toHaveLength(1);
    expect(processedCount(logs, id)).toBe(0);
  });

  it('hands in-flight work back on shutdown so another replica completes it', async () => {
    const keys = namespace();
    const logs: LogLine[] = [];
    await seedStock(keys, 'H', 5);
    let started!: () => void;
    const workStarted = new Promise<void>((resolve) => (started = resolve));
    const slow = await startReplica(
      keys,
      'slow',
      logs,
      async (_o, signal) => {
        started();
        await sleep(60_000, signal);
      },
      { shutdownTimeoutMs: 100 },
    );
    const id = await placeOrder(keys, 'handed-back', [{ sku: 'H', quantity: 2 }]);
    await workStarted;
    await slow.stop();
    expect(logs.some((l) => l.event === 'order.released' && l.orderId === id)).toBe(true);
    await startReplica(keys, 'fresh', logs);
    await waitUntil('RESERVED by fresh', async () => (await admin.hget(keys.order(id), 'processedBy')) === 'fresh');
    await waitForProcessedLogs(logs, [id]);
    expect(processedCount(logs, id)).toBe(1);
    expect(await admin.hgetall(keys.stock('H'))).toEqual({ available: '3', reserved: '2' });
  });
});
