import { delay, eventsOf, expectInvariants, type FaultRig, flow, startRig, waitForAnyClaimInFlight, waitForClaimInFlight } from './support';

let rig: FaultRig;

beforeAll(async () => {
  // The work outlasts the lock TTL (the watchdog keeps it), so a kill surely lands between claim and commit.
  rig = await startRig({ inventoryEnv: { INVENTORY_WORK_DELAY_MS: '1500' } });
}, 60_000);
afterAll(() => rig?.stop());

describe('a replica killed with kill -9 between claim and commit', () => {
  it('leaves its order to another replica after the TTL; every order is applied once', async () => {
    const { system, faults } = rig;
    const victim = system.inventory[1];
    const orders = flow(rig, 60, 20);
    const orderId = await waitForClaimInFlight(victim, { skip: (id) => orders.willCancel(id) });
    await faults.killReplica(victim);
    const killedAt = Date.now();
    expect(eventsOf(victim, 'order.processed', orderId)).toEqual([]);

    await delay(500);
    await victim.restart({ waitReady: true });
    const result = await orders.done;
    expect(result.accepted.length).toBe(60);

    // A kill can also fall between another order's commit and its log line: allow a missing line, never two.
    await expectInvariants(rig, result, { allowMissingProcessedLog: true });
    const order = await system.getOrder(orderId);
    expect(['RESERVED', 'REJECTED']).toContain(order.body.status);
    expect(order.body.attempts).toBeGreaterThanOrEqual(2);
    // The next claim came only after the dead replica's lock expired: it was renewed at most TTL/3
    // before the kill, so it lived at least 2/3 of LOCK_TTL_MS (1000 ms) longer.
    const reclaim = system.logs.find((l) => l.event === 'order.claimed' && l.orderId === orderId && Number(l.attempt) >= 2);
    expect(reclaim).toBeDefined();
    expect(Date.parse(String(reclaim!.time)) - killedAt).toBeGreaterThanOrEqual(600);
    expect(system.logs.filter((l) => l.event === 'order.processed' && l.orderId === orderId)).toHaveLength(1);
    expect(system.crashes.filter((c) => c.name !== victim.name)).toEqual([]);
  }, 90_000);

  it('kill -9 mid-release: another replica gives the stock back after the TTL, exactly once', async () => {
    const { system, faults } = rig;
    const crashesBefore = system.crashes.length;
    // Cancelled late enough that most are RESERVED first: their releases are the work in flight.
    const orders = flow(rig, 60, 20, { cancel: { share: 0.5, maxDelayMs: 6000 } });
    const { replica: victim, orderId } = await waitForAnyClaimInFlight(system.inventory, { type: 'OrderCancelled', timeoutMs: 20_000 });
    await faults.killReplica(victim);
    expect(eventsOf(victim, 'order.cancelled', orderId)).toEqual([]);

    await delay(500);
    await victim.restart({ waitReady: true });
    const result = await orders.done;
    await expectInvariants(rig, result, { allowMissingProcessedLog: true });
    const order = await system.getOrder(orderId);
    expect(order.body.status).toBe('CANCELLED');
    expect(order.body.attempts).toBeGreaterThanOrEqual(2);
    const lines = system.logs.filter((l) => l.event === 'order.cancelled' && l.orderId === orderId);
    expect(lines.map((l) => l.released)).toEqual([true]);
    expect(system.crashes.slice(crashesBefore).filter((c) => c.name !== victim.name)).toEqual([]);
  }, 90_000);
});
