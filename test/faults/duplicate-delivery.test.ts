import { CLAIM_MODE, delay, expectInvariants, type FaultRig, flow, startRig } from './support';

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
    // Racing replicas lose to the lock while the first works; with affinity only the runner-up arms
    // a hedge, which the finish announced to it normally cancels before it fires.
    if (CLAIM_MODE === 'race') expect(skips.some((l) => l.reason === 'locked')).toBe(true);
    expect(skips.some((l) => l.reason === 'already_processed')).toBe(true);
  }, 90_000);

  it("gives a cancelled order's stock back once, however often its OrderCancelled is delivered", async () => {
    const { system, faults, skus } = rig;
    const items = [{ sku: skus.scarce, quantity: 2 }];
    const placed = await system.placeOrder(items);
    const orderId = placed.orderId!;
    const reserved = await system.getOrder(orderId, 10_000);
    expect(reserved.body.status).toBe('RESERVED');
    const before = (await system.store.stock([skus.scarce]))[0]!;
    expect((await system.cancelOrder(orderId)).status).toBe(202);
    const heard = await faults.publishDuplicates(orderId, items, 5, 'OrderCancelled');
    expect(heard.every((n) => n >= 3)).toBe(true);
    const done = await system.getOrder(orderId, 10_000);
    expect(done.body.status).toBe('CANCELLED');
    await faults.publishDuplicates(orderId, items, 1, 'OrderCancelled');
    await delay(300);

    expect(await system.store.stock([skus.scarce])).toEqual([{ available: before.available + 2, reserved: before.reserved - 2 }]);
    expect(system.logs.filter((l) => l.event === 'order.cancelled' && l.orderId === orderId).map((l) => l.released)).toEqual([true]);
    const skips = system.logs.filter((l) => l.event === 'order.skipped' && l.orderId === orderId && l.status === 'CANCELLED');
    expect(skips.length).toBeGreaterThan(0);
  }, 30_000);
});
