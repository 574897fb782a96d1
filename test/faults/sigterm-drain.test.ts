import { eventsOf, expectInvariants, type FaultRig, flow, startRig, waitForClaimInFlight } from './support';

let rig: FaultRig;
const SHUTDOWN_TIMEOUT_MS = 500;

beforeAll(async () => {
  // Work (800 ms) longer than the drain deadline (500 ms): some in-flight orders finish, the rest are handed back.
  rig = await startRig({ inventoryEnv: { INVENTORY_WORK_DELAY_MS: '800', SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) } });
}, 60_000);
afterAll(() => rig?.stop());

describe('SIGTERM to a replica during load', () => {
  it('finishes or hands back its in-flight work, exits 0 within the grace deadline, and loses nothing', async () => {
    const { system, faults } = rig;
    const victim = system.inventory[2];
    const orders = flow(rig, 120, 40);
    await waitForClaimInFlight(victim);
    const exit = await faults.terminateReplica(victim);
    expect(exit).toMatchObject({ code: 0, signal: null });
    // Kubernetes' grace period must cover the drain deadline plus closing connections.
    expect(exit.ms).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 5_000);

    const result = await orders.done;
    await expectInvariants(rig, result);
    const handedBack = eventsOf(victim, 'order.released');
    expect(handedBack.length).toBeGreaterThan(0);
    for (const line of handedBack) {
      const order = await system.getOrder(String(line.orderId));
      expect(order.body.processedBy).not.toBe(victim.name);
    }
    expect(victim.logs.some((l) => l.event === 'service.stopping' && l.stage === 'closed')).toBe(true);
    expect(system.crashes).toEqual([]);
  }, 90_000);
});
