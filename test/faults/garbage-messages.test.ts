import { GARBAGE_MESSAGES } from '@eo/local';
import { CLAIM_MODE, delay, expectInvariants, type FaultRig, flow, startRig } from './support';

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
    // Race: every replica claims the forged id and finds no order. Affinity: its owner does at once and
    // its runner-up after the hedge delay; a replica whose view of the live replicas (read once a
    // heartbeat) does not list them all yet may take itself for either and claim too.
    const unknown = system.logs.filter((l) => l.event === 'order.skipped' && l.reason === 'unknown_order');
    const replicas = new Set(unknown.map((l) => l.replica));
    expect(replicas.size).toBe(unknown.length);
    if (CLAIM_MODE === 'race') expect(unknown).toHaveLength(3);
    else {
      expect(unknown.length).toBeGreaterThanOrEqual(2);
      expect(unknown.filter((l) => l.source === 'message').length).toBeGreaterThanOrEqual(1);
    }
    expect(await system.redis.exists(system.keys.order('forged-order'))).toBe(0);
    expect(system.crashes).toEqual([]);
  }, 90_000);
});
