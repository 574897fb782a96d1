import { delay, flow } from '../faults/support';
import { expectSurvived, type FailoverRig, startFailoverRig } from './support';

let rig: FailoverRig;

beforeAll(async () => {
  rig = await startFailoverRig();
}, 90_000);
afterAll(() => rig?.stop());

describe('Sentinel: the only replica is killed while REDIS_WAIT_REPLICAS=1', () => {
  it('answers 503 while no write can be confirmed, loses nothing, and is back once the replica returns', async () => {
    const { topology, system } = rig;
    const orders = flow(rig, 600, 60);
    await delay(2000);
    const master = await topology.master();
    const replica = topology.nodes.find((node) => node !== master)!;
    const faultAt = Date.now();
    await replica.stop({ keepData: true, signal: 'SIGKILL' });
    await delay(500);
    const during = await system.placeOrder(rig.items(1), { timeoutMs: 10_000 });
    expect(during.status).toBe(503);
    expect(JSON.stringify(during.body)).toMatch(/may exist.*Retry with the same Idempotency-Key/);
    const ready = await fetch(`${system.orderUrl}/health/ready`);
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toMatch(/REDIS_WAIT_REPLICAS/);
    await delay(2500);
    replica.setReplicaOf(master.port);
    await replica.restart();
    const result = await orders.done;
    expect(result.refusedByStatus[503]).toBeGreaterThan(0);
    expect(await topology.master()).toBe(master);
    await expectSurvived(rig, result, 'replica kill -9 with REDIS_WAIT_REPLICAS=1', faultAt);
    // Commits made while the replica was away were re-run until confirmed, each logged once.
    const unconfirmed = system.events('order.unacknowledged').filter((line) => line.stage === 'commit');
    expect(unconfirmed.length).toBeGreaterThan(0);
    const processed = system.events('order.processed');
    for (const orderId of new Set(unconfirmed.map((line) => line.orderId))) {
      expect(processed.filter((line) => line.orderId === orderId).length).toBeLessThanOrEqual(1);
    }
  }, 180_000);
});
