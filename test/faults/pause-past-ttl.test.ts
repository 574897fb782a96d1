import { delay, eventsOf, expectInvariants, FAULT_ENV, type FaultRig, flow, startRig, waitForClaimInFlight } from './support';

let rig: FaultRig;
const TTL = Number(FAULT_ENV.LOCK_TTL_MS);

beforeAll(async () => {
  rig = await startRig({ inventoryEnv: { INVENTORY_WORK_DELAY_MS: '600' } });
}, 60_000);
afterAll(() => rig?.stop());

describe('a replica paused with SIGSTOP for 3× LOCK_TTL_MS while holding a lock', () => {
  it('loses the order to another replica and, once resumed, has its work refused as order.lease_lost', async () => {
    const { system, faults } = rig;
    const victim = system.inventory[0];
    const orders = flow(rig, 60, 20);
    const orderId = await waitForClaimInFlight(victim);
    await faults.pauseReplica(victim, 3 * TTL);

    const lost = await victim.waitForLog((l) => l.event === 'order.lease_lost' && l.orderId === orderId, 10_000);
    expect(['work', 'commit']).toContain(lost.stage);
    expect(eventsOf(victim, 'order.processed', orderId)).toEqual([]);

    const result = await orders.done;
    await expectInvariants(rig, result);
    const order = await system.getOrder(orderId);
    expect(order.body.processedBy).not.toBe(victim.name);
    expect(['RESERVED', 'REJECTED']).toContain(order.body.status);
    // The resumed replica works normally afterwards.
    await delay(200);
    expect(victim.running).toBe(true);
    expect(system.crashes).toEqual([]);
  }, 90_000);
});
