import type { Redis } from 'ioredis';
import { LogEvent, RedisKeys, type OrderItem } from '@eo/contract';
import { OrderLifecycleScripts } from '../support';
import { checkInvariants, formatReport, type LogLine, RedisServer } from '@eo/local';

let server: RedisServer;
let redis: Redis;
let seq = 0;

beforeAll(async () => {
  server = await RedisServer.start();
  redis = server.client();
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

/** A run planted straight through the real Lua scripts, in its own namespace. */
class PlantedRun {
  readonly keys = new RedisKeys(`inv-${++seq}`);
  readonly scripts = new OrderLifecycleScripts(redis, this.keys);
  readonly accepted: string[] = [];
  readonly logs: LogLine[] = [];
  readonly initialStock: Record<string, number> = {};

  async seed(sku: string, available: number): Promise<void> {
    this.initialStock[sku] = available;
    await this.scripts.setStock(sku, available);
  }

  async accept(items: OrderItem[]): Promise<string> {
    const orderId = `o-${++seq}`;
    await this.scripts.accept({
      orderId,
      items,
      bodyHash: `h-${orderId}`,
      createdAt: new Date().toISOString(),
      envelope: '{}',
      recoveryGraceMs: 60_000,
      idempotencyTtlSeconds: 60,
    });
    this.accepted.push(orderId);
    return orderId;
  }

  /** Claims and commits as `replica` would, and logs its order.processed line. */
  async process(orderId: string, replica: string): Promise<string> {
    const attempt = { orderId, token: `tok-${++seq}`, replica };
    const claim = await this.scripts.claim(attempt, 10_000, 3, new Date().toISOString());
    if (claim.code !== 'claimed') throw new Error(`claim: ${claim.code}`);
    const result = await this.scripts.commit(attempt, claim.items, new Date().toISOString());
    if (result.code !== 'reserved' && result.code !== 'rejected') throw new Error(`commit: ${result.code}`);
    this.log(orderId, replica, result.code);
    return result.code;
  }

  log(orderId: string, replica: string, outcome: string): void {
    this.logs.push({ event: LogEvent.OrderProcessed, orderId, replica, outcome, msg: `order ${outcome}` });
  }

  check(extra: { logs?: LogLine[] | null; allowMissingProcessedLog?: boolean } = {}) {
    return checkInvariants({
      redis,
      keys: this.keys,
      acceptedOrderIds: this.accepted,
      initialStock: this.initialStock,
      logs: extra.logs === null ? undefined : (extra.logs ?? this.logs),
      allowMissingProcessedLog: extra.allowMissingProcessedLog,
    });
  }
}

/** Scarce A (5), ample B: three orders of 2×A (the third is rejected) and one of 3×B, on two replicas. */
async function cleanRun(): Promise<PlantedRun> {
  const run = new PlantedRun();
  await run.seed('A', 5);
  await run.seed('B', 100);
  const ids = [
    await run.accept([{ sku: 'A', quantity: 2 }]),
    await run.accept([{ sku: 'A', quantity: 2 }]),
    await run.accept([{ sku: 'A', quantity: 2 }]),
    await run.accept([
      { sku: 'B', quantity: 3 },
      { sku: 'A', quantity: 1 },
    ]),
  ];
  expect(await run.process(ids[0], 'inventory-0')).toBe('reserved');
  expect(await run.process(ids[1], 'inventory-1')).toBe('reserved');
  expect(await run.process(ids[2], 'inventory-0')).toBe('rejected');
  expect(await run.process(ids[3], 'inventory-1')).toBe('reserved');
  return run;
}

describe('checkInvariants', () => {
  it('passes a clean run and counts outcomes per replica', async () => {
    const run = await cleanRun();
    const report = await run.check();
    expect(report.violations).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report).toMatchObject({ accepted: 4, reserved: 3, rejected: 1, failed: 0, pending: 0, lost: [], processedTwice: [] });
    expect(report.processedPerReplica).toEqual({ 'inventory-0': 2, 'inventory-1': 2 });
    expect(report.processedLogsPerReplica).toEqual({ 'inventory-0': 2, 'inventory-1': 2 });
    expect(report.skus).toEqual([
      { sku: 'A', initial: 5, available: 0, reserved: 5, expectedReserved: 5, drift: 0 },
      { sku: 'B', initial: 100, available: 97, reserved: 3, expectedReserved: 3, drift: 0 },
    ]);
    expect(report.backlog).toEqual({ total: 0, orderIds: [] });
    expect(formatReport(report)).toContain('OK: no violation');
  });

  it('flags an order with two order.processed lines and names both replicas', async () => {
    const run = await cleanRun();
    const twice = run.accepted[0];
    run.log(twice, 'inventory-2', 'reserved');
    const report = await run.check();
    expect(report.ok).toBe(false);
    expect(report.processedTwice).toEqual([{ orderId: twice, count: 2, replicas: ['inventory-0', 'inventory-2'] }]);
    expect(report.violations.join('\n')).toContain(`${twice} ×2 by inventory-0+inventory-2`);
  });

  it('flags accepted orders that are missing or never terminal, and what is left on the backlog', async () => {
    const run = await cleanRun();
    const stuck = await run.accept([{ sku: 'B', quantity: 1 }]);
    run.accepted.push('never-stored');
    const report = await run.check();
    expect(report.ok).toBe(false);
    expect(report.lost.sort()).toEqual(['never-stored', stuck].sort());
    expect(report.pending).toBe(1);
    expect(report.backlog).toEqual({ total: 1, orderIds: [stuck] });
    expect(report.violations).toHaveLength(3);
  });

  it('flags stock drift, oversell and reserved stock that no order explains', async () => {
    const run = await cleanRun();
    await redis.hincrby(run.keys.stock('A'), 'available', -7);
    await redis.hincrby(run.keys.stock('B'), 'reserved', 1);
    const report = await run.check();
    expect(report.ok).toBe(false);
    expect(report.drift).toEqual([
      { sku: 'A', drift: 7 },
      { sku: 'B', drift: -1 },
    ]);
    expect(report.oversold).toEqual(['A']);
    expect(report.reservedMismatch).toEqual([{ sku: 'B', reserved: 4, expected: 3 }]);
  });

  it('detects a reservation applied twice from Redis state alone, without logs', async () => {
    const run = await cleanRun();
    // What a second, unfenced commit of the B order would have done: conserved, but double-reserved.
    await redis.hincrby(run.keys.stock('B'), 'available', -3);
    await redis.hincrby(run.keys.stock('B'), 'reserved', 3);
    const report = await run.check({ logs: null });
    expect(report.logsChecked).toBe(false);
    expect(report.drift).toEqual([]);
    expect(report.reservedMismatch).toEqual([{ sku: 'B', reserved: 6, expected: 3 }]);
    expect(report.ok).toBe(false);
  });

  it('flags a decided order without its order.processed line unless told a replica may have died', async () => {
    const run = await cleanRun();
    const silent = run.accepted[3];
    const logs = run.logs.filter((line) => line.orderId !== silent);
    expect((await run.check({ logs })).unlogged).toEqual([silent]);
    expect((await run.check({ logs })).ok).toBe(false);
    expect((await run.check({ logs, allowMissingProcessedLog: true })).ok).toBe(true);
  });

  it('flags a logged outcome that contradicts the stored status', async () => {
    const run = await cleanRun();
    const logs = run.logs.map((line) => (line.orderId === run.accepted[2] ? { ...line, outcome: 'reserved' } : line));
    const report = await run.check({ logs });
    expect(report.ok).toBe(false);
    expect(report.violations.join('\n')).toContain('logged outcome differs');
  });
});
