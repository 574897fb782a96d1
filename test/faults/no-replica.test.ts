import type { OrderItem } from '@eo/contract';
import { checkInvariants, delay, formatReport, SystemHarness } from '@eo/local';
import { CLAIM_MODE } from './support';

let system: SystemHarness | undefined;

beforeAll(async () => {
  // A namespace too, so this also proves every key and the channel follow REDIS_NAMESPACE.
  system = await SystemHarness.start({
    replicas: 0,
    namespace: 'norep',
    orderEnv: { RECOVERY_GRACE_MS: '200' },
    inventoryEnv: { SWEEP_INTERVAL_MS: '200', CLAIM_MODE },
  });
}, 60_000);

afterAll(async () => {
  await system?.stop();
});

describe('orders accepted while no inventory replica runs', () => {
  it('are all processed exactly once after replicas start', async () => {
    const sys = system!;
    const prefix = SystemHarness.uniqueId('norep');
    const initialStock = { [`${prefix}-A`]: 150, [`${prefix}-B`]: 1_000 };
    for (const [sku, available] of Object.entries(initialStock)) await sys.seedStock(sku, available);
    const orders: OrderItem[][] = Array.from({ length: 200 }, (_, i) => [
      { sku: `${prefix}-A`, quantity: 1 + (i % 2) },
      { sku: `${prefix}-B`, quantity: 1 },
    ]);

    const { accepted, refused } = await sys.placeOrders(orders, 32);
    expect(refused).toEqual([]);
    expect(accepted).toHaveLength(200);

    // Published to nobody: everything waits on the backlog, nothing is decided.
    await delay(400);
    expect(await sys.redis.zcard(sys.keys.pending)).toBe(200);
    const statuses = await Promise.all(accepted.map((id) => sys.redis.hget(sys.keys.order(id), 'status')));
    expect(new Set(statuses)).toEqual(new Set(['PENDING']));

    await sys.startInventory(3);
    await sys.waitForQuiet(accepted, { timeoutMs: 30_000 });

    const report = await checkInvariants({ redis: sys.redis, keys: sys.keys, acceptedOrderIds: accepted, initialStock, logs: sys.logs });
    if (!report.ok) throw new Error(formatReport(report) + sys.crashReport());
    expect(sys.crashes).toEqual([]);
    expect(report.reserved + report.rejected).toBe(200);
    expect(report.rejected).toBeGreaterThan(0);
    expect(sys.events('order.processed')).toHaveLength(200);
    // None was announced to a listener: each was taken from the backlog by a sweep.
    const recovered = new Set(sys.events('order.recovered').map((line) => line.orderId));
    expect(accepted.every((id) => recovered.has(id))).toBe(true);
  }, 90_000);

  it('gives back the stock of RESERVED orders cancelled while no replica runs, once replicas return', async () => {
    const sys = system!;
    const sku = `${SystemHarness.uniqueId('norep')}-C`;
    const initialStock = { [sku]: 100 };
    await sys.seedStock(sku, 100);
    const { accepted, refused } = await sys.placeOrders(
      Array.from({ length: 60 }, () => [{ sku, quantity: 1 }]),
      16,
    );
    expect(refused).toEqual([]);
    await sys.waitForQuiet(accepted, { timeoutMs: 30_000 });

    await Promise.all(sys.inventory.map((replica) => replica.stop()));
    // Released by nobody yet: each is recorded, backlogged and published to no listener.
    const toRelease = accepted.filter((_, i) => i % 3 === 0);
    const requested = await Promise.all(toRelease.map((id) => sys.cancelOrder(id)));
    expect(requested.map((reply) => reply.status)).toEqual(toRelease.map(() => 202));
    // A PENDING order cancelled meanwhile needs no replica at all.
    const { accepted: later } = await sys.placeOrders([[{ sku, quantity: 1 }]]);
    const before = await sys.cancelOrder(later[0]);
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ status: 'CANCELLED' });
    await delay(400);
    expect(await sys.redis.zcard(sys.keys.pending)).toBe(toRelease.length);
    expect(await sys.store.stock([sku])).toEqual([{ available: 40, reserved: 60 }]);

    const restartedAt = Date.now();
    await Promise.all(sys.inventory.map((replica) => replica.restart({ waitReady: true })));
    const all = [...accepted, ...later];
    await sys.waitForQuiet(all, { timeoutMs: 30_000 });
    const cancelAnswers = [...toRelease.map((orderId) => ({ orderId, status: 202 })), { orderId: later[0], status: 200 }];
    const report = await checkInvariants({
      redis: sys.redis,
      keys: sys.keys,
      acceptedOrderIds: all,
      initialStock,
      logs: sys.logs,
      cancelAnswers,
    });
    if (!report.ok) throw new Error(formatReport(report) + sys.crashReport());
    expect(report.cancellations).toEqual({ released: toRelease.length, beforeProcessing: 1 });
    expect(await sys.store.stock([sku])).toEqual([{ available: 60, reserved: 40 }]);
    // Each release was taken from the backlog by a sweep.
    // (sys.logs runs process by process, not in time order: select this phase's lines by time)
    const recovered = new Set(
      sys
        .events('order.recovered')
        .filter((line) => Date.parse(String(line.time)) >= restartedAt)
        .map((line) => line.orderId),
    );
    expect(toRelease.every((id) => recovered.has(id))).toBe(true);
  }, 90_000);
});
