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

  /** Cancels as the order service would: a PENDING order at once (logged), a RESERVED one CANCELLING. */
  async cancel(orderId: string): Promise<string> {
    const result = await this.scripts.cancel(orderId, '{}', 60_000, new Date().toISOString());
    if (result.code === 'cancelled') this.logCancelled(orderId, 'order-0', false);
    return result.code;
  }

  /** Claims and applies a requested cancellation's release as `replica` would, and logs its order.cancelled line. */
  async release(orderId: string, replica: string): Promise<void> {
    const attempt = { orderId, token: `tok-${++seq}`, replica };
    const claim = await this.scripts.claim(attempt, 10_000, 3, new Date().toISOString(), 'CANCELLING');
    if (claim.code !== 'claimed') throw new Error(`claim: ${claim.code}`);
    const result = await this.scripts.releaseStock(attempt, claim.items, new Date().toISOString());
    if (result.code !== 'released') throw new Error(`release: ${result.code}`);
    this.logCancelled(orderId, replica, true);
  }

  logCancelled(orderId: string, replica: string, released: boolean): void {
    this.logs.push({ event: LogEvent.OrderCancelled, orderId, replica, outcome: 'cancelled', released, msg: 'order cancelled' });
  }

  check(
    extra: { logs?: LogLine[] | null; allowMissingProcessedLog?: boolean; cancelAnswers?: Array<{ orderId: string; status: number }> } = {},
  ) {
    return checkInvariants({
      redis,
      keys: this.keys,
      acceptedOrderIds: this.accepted,
      initialStock: this.initialStock,
      logs: extra.logs === null ? undefined : (extra.logs ?? this.logs),
      allowMissingProcessedLog: extra.allowMissingProcessedLog,
      cancelAnswers: extra.cancelAnswers,
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

  describe('with cancellations', () => {
    /** The clean run, plus a PENDING order cancelled at once and the first RESERVED order cancelled and released. */
    async function cancelledRun(): Promise<{ run: PlantedRun; before: string; released: string }> {
      const run = await cleanRun();
      const before = await run.accept([{ sku: 'B', quantity: 5 }]);
      expect(await run.cancel(before)).toBe('cancelled');
      const released = run.accepted[0];
      expect(await run.cancel(released)).toBe('requested');
      await run.release(released, 'inventory-2');
      return { run, before, released };
    }

    it('passes, counting a CANCELLED order out of the reserved stock and each cancellation by its line', async () => {
      const { run } = await cancelledRun();
      const report = await run.check();
      expect(report.violations).toEqual([]);
      expect(report).toMatchObject({ accepted: 5, reserved: 2, rejected: 1, cancelled: 2, pending: 0, cancelledTwice: [] });
      expect(report.cancellations).toEqual({ released: 1, beforeProcessing: 1 });
      expect(report.skus.find((sku) => sku.sku === 'A')).toEqual({
        sku: 'A',
        initial: 5,
        available: 2,
        reserved: 3,
        expectedReserved: 3,
        drift: 0,
      });
      expect(formatReport(report)).toContain('cancelled       2 (1 before processing, 1 released)');
    });

    it('flags a release logged twice', async () => {
      const { run, released } = await cancelledRun();
      run.logCancelled(released, 'inventory-1', true);
      const report = await run.check();
      expect(report.cancelledTwice).toEqual([{ orderId: released, count: 2, replicas: ['inventory-2', 'inventory-1'] }]);
      expect(report.violations.join('\n')).toContain(`more than one order.cancelled line: ${released} ×2`);
    });

    it('detects a release applied twice from Redis state alone: reserved below the RESERVED orders, stock created', async () => {
      const { run } = await cancelledRun();
      // What a second, unfenced release of the 2×A order would have done.
      await redis.hincrby(run.keys.stock('A'), 'available', 2);
      await redis.hincrby(run.keys.stock('A'), 'reserved', -2);
      const report = await run.check({ logs: null });
      expect(report.reservedMismatch).toEqual([{ sku: 'A', reserved: 1, expected: 3 }]);
      expect(report.drift).toEqual([]);
      expect(report.ok).toBe(false);
    });

    it('flags a CANCELLED order without its order.cancelled line, and an order.cancelled on an order that is not CANCELLED', async () => {
      const { run, released } = await cancelledRun();
      const missing = run.logs.filter((line) => !(line.orderId === released && line.event === LogEvent.OrderCancelled));
      expect((await run.check({ logs: missing })).unlogged).toEqual([released]);
      const stray = [...run.logs, { event: LogEvent.OrderCancelled, orderId: run.accepted[1], replica: 'x', released: true, msg: '' }];
      expect((await run.check({ logs: stray })).violations.join('\n')).toContain('logged outcome differs');
    });

    it('checks the API answers to cancellations against the outcome: 200/202 must end CANCELLED, 409 only REJECTED or FAILED', async () => {
      const { run, before, released } = await cancelledRun();
      const honoured = [
        { orderId: before, status: 200 },
        { orderId: released, status: 202 },
        { orderId: run.accepted[2], status: 409 },
        { orderId: run.accepted[1], status: 503 },
      ];
      expect((await run.check({ cancelAnswers: honoured })).violations).toEqual([]);
      const report = await run.check({
        cancelAnswers: [
          { orderId: run.accepted[1], status: 202 },
          { orderId: run.accepted[3], status: 409 },
        ],
      });
      expect(report.violations).toEqual([
        `1 cancellation(s) answered 200/202 not CANCELLED: ${run.accepted[1]}=RESERVED`,
        `1 cancellation(s) refused 409 for an order that could be cancelled: ${run.accepted[3]}=RESERVED`,
      ]);
    });

    it('counts a RESERVED order whose release never ran as unfinished, its stock still reserved', async () => {
      const run = await cleanRun();
      const stuck = run.accepted[1];
      expect(await run.cancel(stuck)).toBe('requested');
      const report = await run.check();
      expect(report.lost).toEqual([stuck]);
      expect(report.reservedMismatch).toEqual([]);
      expect(report.violations.join('\n')).toContain('or their cancellation never finished');
    });
  });
});
