import { delay, expectInvariants, type FaultRig, flow, startRig } from './support';

let rig: FaultRig;

beforeAll(async () => {
  rig = await startRig({ inventoryEnv: { INVENTORY_WORK_DELAY_MS: '200' } });
}, 60_000);
afterAll(() => rig?.stop());

describe('the same envelope published five times, and once more after the order completed', () => {
  it('applies each order once', async () => {
    const { system, faults, skus } = rig;
    const orders = flow(rig, 50, 25);
    const items = [{ sku: skus.scarce, quantity: 3 }];
    const placed = await system.placeOrder(items);
    expect(placed.status).toBe(202);
    const orderId = placed.orderId!;
    // Every replica hears each copy while the first claimant is still working.
    const heard = await faults.publishDuplicates(orderId, items, 5);
    expect(heard.every((n) => n >= 3)).toBe(true);
    const done = await system.getOrder(orderId, 10_000);
    expect(['RESERVED', 'REJECTED']).toContain(done.body.status);
    // A late duplicate, after completion (the tutorial design's re-take of a released lock).
    await faults.publishDuplicates(orderId, items, 1);
    await delay(300);

    const result = await orders.done;
    result.accepted.push(orderId);
    result.itemsById.set(orderId, items);
    await expectInvariants(rig, result);
    expect(system.logs.filter((l) => l.event === 'order.processed' && l.orderId === orderId)).toHaveLength(1);
    const skips = system.logs.filter((l) => l.event === 'order.skipped' && l.orderId === orderId);
    expect(skips.some((l) => l.reason === 'locked')).toBe(true);
    expect(skips.some((l) => l.reason === 'already_processed')).toBe(true);
  }, 90_000);
});
