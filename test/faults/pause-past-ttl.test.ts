import {
  delay,
  eventsOf,
  expectInvariants,
  FAULT_ENV,
  type FaultRig,
  flow,
  startRig,
  waitForAnyClaimInFlight,
  waitForClaimInFlight,
} from './support';

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
    const orderId = await waitForClaimInFlight(victim, { skip: (id) => orders.willCancel(id) });
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

  it('SIGSTOP past the TTL during a release: another replica releases, the resumed one is refused, stock given back once', async () => {
    const { system, faults } = rig;
    const orders = flow(rig, 60, 20, { cancel: { share: 0.5, maxDelayMs: 4000 } });
    const { replica: victim, orderId } = await waitForAnyClaimInFlight(system.inventory, { type: 'OrderCancelled', timeoutMs: 20_000 });
    await faults.pauseReplica(victim, 3 * TTL);

    const lost = await victim.waitForLog((l) => l.event === 'order.lease_lost' && l.orderId === orderId, 10_000);
    expect(['work', 'commit']).toContain(lost.stage);
    expect(eventsOf(victim, 'order.cancelled', orderId)).toEqual([]);

    const result = await orders.done;
    await expectInvariants(rig, result);
    const order = await system.getOrder(orderId);
    expect(order.body.status).toBe('CANCELLED');
    expect(order.body.processedBy).not.toBe(victim.name);
    expect(system.logs.filter((l) => l.event === 'order.cancelled' && l.orderId === orderId).map((l) => l.released)).toEqual([true]);
    expect(system.crashes).toEqual([]);
  }, 90_000);
});
