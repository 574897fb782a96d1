import { expectInvariants, type FaultRig, flow, startRig } from './support';

let rig: FaultRig;
const MAX_ATTEMPTS = 3;
const RETRY_BASE_MS = 200;

beforeAll(async () => {
  rig = await startRig({
    inventoryEnv: {
      INVENTORY_FAIL_SKU_PREFIX: 'FAULT-',
      MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      RETRY_BASE_MS: String(RETRY_BASE_MS),
      RETRY_MAX_MS: '5000',
    },
  });
}, 60_000);
afterAll(() => rig?.stop());

describe('an order whose work step keeps failing (test-only INVENTORY_FAIL_SKU_PREFIX)', () => {
  it('retries with exponential backoff and ends FAILED in orders:dead after MAX_ATTEMPTS, logged order.failed', async () => {
    const { system, skus } = rig;
    const orders = flow(rig, 60, 30);
    const items = [
      { sku: skus.ample, quantity: 1 },
      { sku: 'FAULT-warehouse-down', quantity: 1 },
    ];
    const placed = await system.placeOrder(items);
    expect(placed.status).toBe(202);
    const orderId = placed.orderId!;
    const final = await system.getOrder(orderId, 20_000);
    expect(final.body).toMatchObject({ status: 'FAILED', attempts: MAX_ATTEMPTS });
    expect(final.body.reason).toMatch(/injected fault/);

    const result = await orders.done;
    result.accepted.push(orderId);
    result.itemsById.set(orderId, items);
    const report = await expectInvariants(rig, result, { allowFailed: true });
    expect(report.failed).toBe(1);
    expect(await system.redis.zscore(system.keys.dead, orderId)).not.toBeNull();
    expect(system.events('order.failed').filter((l) => l.orderId === orderId)).toHaveLength(1);
    expect(system.events('order.processed').filter((l) => l.orderId === orderId)).toHaveLength(0);

    // Attempts may run on different replicas: order their lines by time.
    const retries = system
      .events('order.retry_scheduled')
      .filter((l) => l.orderId === orderId)
      .sort((a, b) => String(a.time).localeCompare(String(b.time)));
    expect(retries.map((l) => l.attempt)).toEqual([1, 2]);
    // Backoff doubles per attempt (with jitter in [½, 1] of the step): 100–200 ms, then 200–400 ms.
    retries.forEach((line, i) => {
      const step = RETRY_BASE_MS * 2 ** i;
      expect(Number(line.backoffMs)).toBeGreaterThanOrEqual(step / 2);
      expect(Number(line.backoffMs)).toBeLessThanOrEqual(step);
    });
    // Its other item's stock was never touched: reserved equals the RESERVED orders' quantities
    // (checked by expectInvariants) and FAILED orders count for none of it.
    expect(report.skus.every((sku) => sku.drift === 0)).toBe(true);
  }, 90_000);
});
