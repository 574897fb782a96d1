import { delay, expectInvariants, type FaultRig, flow, startRig } from './support';

let rig: FaultRig;

beforeAll(async () => {
  rig = await startRig();
}, 60_000);
afterAll(() => rig?.stop());

describe('CLIENT KILL TYPE pubsub on every subscriber while orders are published', () => {
  it('recovers the messages missed in the gap through the backlog sweep', async () => {
    const { system, faults } = rig;
    const orders = flow(rig, 300, 100);
    let cut = 0;
    for (let i = 0; i < 5; i++) {
      await delay(400);
      cut += await faults.killPubsubClients();
    }
    const result = await orders.done;
    expect(result.accepted.length).toBe(300);
    // 3 replicas' and the order service's subscriber connections, five times.
    expect(cut).toBeGreaterThanOrEqual(5 * 3);

    await expectInvariants(rig, result);
    const recovered = new Set(system.events('order.recovered').map((l) => l.orderId));
    expect(recovered.size).toBeGreaterThan(0);
    expect(system.crashes).toEqual([]);
  }, 90_000);
});
