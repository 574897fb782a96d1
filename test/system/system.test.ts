import type { OrderItem } from '@eo/contract';
import { checkInvariants, formatReport, OrderFlow, SystemHarness } from '@eo/local';

let system: SystemHarness | undefined;

beforeAll(async () => {
  // Work that takes a while (as a downstream call would) keeps orders PENDING long enough for a
  // cancellation to land mid-work; every replica still works on many orders at once.
  system = await SystemHarness.start({ replicas: 3, inventoryEnv: { INVENTORY_WORK_DELAY_MS: '1000' } });
}, 60_000);

afterAll(async () => {
  await system?.stop();
});

describe('the whole system with three inventory replicas', () => {
  it('processes 2,000 concurrent orders on scarce SKUs exactly once each, without oversell or drift', async () => {
    const sys = system!;
    const prefix = SystemHarness.uniqueId('sys');
    const initialStock: Record<string, number> = {
      [`${prefix}-S1`]: 40,
      [`${prefix}-S2`]: 25,
      [`${prefix}-S3`]: 10,
      [`${prefix}-AMPLE`]: 100_000,
    };
    for (const [sku, available] of Object.entries(initialStock)) await sys.seedStock(sku, available);
    const scarce = Object.keys(initialStock).filter((sku) => !sku.endsWith('AMPLE'));
    const orders: OrderItem[][] = Array.from({ length: 2000 }, (_, i) => {
      const items: OrderItem[] = [{ sku: scarce[i % scarce.length], quantity: 1 + (i % 3) }];
      if (i % 4 === 0) items.push({ sku: `${prefix}-AMPLE`, quantity: 1 });
      return items;
    });

    const { accepted, refused } = await sys.placeOrders(orders, 64);
    expect(refused).toEqual([]);
    expect(accepted).toHaveLength(2000);
    await sys.waitForQuiet(accepted, { timeoutMs: 60_000 });

    const report = await checkInvariants({ redis: sys.redis, keys: sys.keys, acceptedOrderIds: accepted, initialStock, logs: sys.logs });
    if (!report.ok) throw new Error(formatReport(report) + sys.crashReport());
    expect(sys.crashes).toEqual([]);
    expect(report.reserved + report.rejected).toBe(2000);
    expect(report.rejected).toBeGreaterThan(0);
    expect(report.oversold).toEqual([]);
    expect(sys.events('order.processed')).toHaveLength(2000);
    // Demand is ~20× supply: each scarce SKU ends with less left than one more order needs.
    // (scarce[k] is always ordered k+1 at a time)
    scarce.forEach((sku, k) => expect(report.skus.find((s) => s.sku === sku)?.available).toBeLessThan(k + 1));
    // Every replica hears every order and races for the lock: the work is shared.
    expect(Object.keys(report.processedPerReplica).length).toBeGreaterThanOrEqual(2);

    const view = await sys.getOrder(accepted[0], 1000);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ orderId: accepted[0], items: orders[0] });
    expect(['RESERVED', 'REJECTED']).toContain(view.body.status);
    expect(view.body.processedBy).toMatch(/^inventory-[0-2]$/);
  }, 120_000);

  it('cancels 30 % of 2,000 orders at random moments while they are processed: each CANCELLED once, its stock back', async () => {
    const sys = system!;
    const prefix = SystemHarness.uniqueId('cxl');
    const initialStock: Record<string, number> = { [`${prefix}-S1`]: 60, [`${prefix}-S2`]: 30, [`${prefix}-AMPLE`]: 100_000 };
    for (const [sku, available] of Object.entries(initialStock)) await sys.seedStock(sku, available);
    const scarce = [`${prefix}-S1`, `${prefix}-S2`];
    const makeItems = (i: number): OrderItem[] => {
      const items: OrderItem[] = [{ sku: scarce[i % 2], quantity: 1 + (i % 3) }];
      if (i % 4 === 0) items.push({ sku: `${prefix}-AMPLE`, quantity: 1 });
      return items;
    };
    // Placed as fast as 64 connections go; each cancellation 0–3 s after its 202, so some land
    // while the order is PENDING (some mid-work), some once it is RESERVED (a release), some on a REJECTED one.
    const flow = new OrderFlow(sys, makeItems, {
      count: 2000,
      ratePerSecond: 100_000,
      concurrency: 64,
      cancel: { share: 0.3, maxDelayMs: 3000 },
    });
    const result = await flow.done;
    expect(result.accepted).toHaveLength(2000);
    expect(result.cancels).toHaveLength(600);
    await sys.waitForQuiet(result.accepted, { timeoutMs: 60_000 });

    const report = await checkInvariants({
      redis: sys.redis,
      keys: sys.keys,
      acceptedOrderIds: result.accepted,
      initialStock,
      logs: sys.logs,
      cancelAnswers: result.cancels,
    });
    if (!report.ok) throw new Error(formatReport(report) + sys.crashReport());
    expect(sys.crashes).toEqual([]);
    const answered = (status: number) => result.cancels.filter((c) => c.status === status).length;
    // Every cancellation was answered: 200 (was PENDING), 202 (was RESERVED) or 409 (was REJECTED).
    expect(answered(200) + answered(202) + answered(409)).toBe(600);
    expect(answered(200)).toBeGreaterThan(0);
    expect(answered(202)).toBeGreaterThan(0);
    expect(report.cancelled).toBe(answered(200) + answered(202));
    expect(report.cancellations).toEqual({ released: answered(202), beforeProcessing: answered(200) });
    expect(report.reserved + report.rejected + report.cancelled).toBe(2000);
    expect(report.cancelledTwice).toEqual([]);
    // Stock of every cancelled order is back: reserved is exactly the RESERVED orders' quantities.
    expect(report.reservedMismatch).toEqual([]);
    expect(report.drift).toEqual([]);
    // Releases are shared by the replicas like placements.
    const releasers = new Set(
      sys
        .events('order.cancelled')
        .filter((l) => l.released === true)
        .map((l) => l.replica),
    );
    expect(releasers.size).toBeGreaterThanOrEqual(2);
  }, 120_000);
});
