import { GARBAGE_MESSAGES } from '@eo/local';
import { delay, expectInvariants, type FaultRig, flow, startRig } from './support';

let rig: FaultRig;

beforeAll(async () => {
  rig = await startRig();
}, 60_000);
afterAll(() => rig?.stop());

describe('garbage and wrong-shaped messages on order_updates while orders flow', () => {
  it('are logged as message.invalid and dropped by every replica; nothing else is affected', async () => {
    const { system, faults } = rig;
    const orders = flow(rig, 100, 50);
    for (let i = 0; i < 3; i++) {
      await faults.publishGarbage();
      await delay(200);
    }
    // A well-formed envelope naming no stored order (forged): ignored, creates nothing.
    await faults.publishDuplicates('forged-order', [{ sku: rig.skus.ample, quantity: 5 }], 1);
    const result = await orders.done;

    await expectInvariants(rig, result);
    for (const replica of system.inventory) {
      expect(replica.events('message.invalid')).toHaveLength(3 * GARBAGE_MESSAGES.length);
      expect(replica.running).toBe(true);
    }
    expect(system.logs.filter((l) => l.event === 'order.skipped' && l.reason === 'unknown_order')).toHaveLength(3);
    expect(await system.redis.exists(system.keys.order('forged-order'))).toBe(0);
    expect(system.crashes).toEqual([]);
  }, 90_000);
});
