import type { OrderItem } from '@eo/contract';
import { checkInvariants, formatReport, SystemHarness } from '@eo/local';

let system: SystemHarness | undefined;

beforeAll(async () => {
  system = await SystemHarness.start({ replicas: 3 });
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
});
