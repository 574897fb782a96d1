import { delay, FAULT_ENV, flow } from '../faults/support';
import { expectSurvived, type FailoverRig, REDIS_REPLICAS, startFailoverRig } from './support';

let rig: FailoverRig;

beforeAll(async () => {
  rig = await startFailoverRig({ redisReplicas: REDIS_REPLICAS });
}, 90_000);
afterAll(() => rig?.stop());

describe('Sentinel: a planned switchover (SENTINEL FAILOVER) while orders flow', () => {
  it('moves every service to the new master; every confirmed order survives, processed exactly once', async () => {
    const { topology } = rig;
    const orders = flow(rig, 600, 60);
    await delay(2000);
    const old = await topology.master();
    const faultAt = Date.now();
    await topology.failover();
    const promoted = await topology.waitForNewMaster(old);
    await topology.waitForReplicas(promoted, topology.nodes.length - 1, 60_000);
    const result = await orders.done;
    await expectSurvived(rig, result, 'SENTINEL FAILOVER', faultAt);
  }, 180_000);

  it('then stops cleanly: every service closes its Sentinel connections and exits 0 on SIGTERM on its own', async () => {
    const stops = await Promise.all(
      rig.system.processes.map(async (service) => {
        const started = Date.now();
        const { code, signal } = await service.stop(20_000);
        return { name: service.name, code, signal, ms: Date.now() - started };
      }),
    );
    for (const stop of stops) {
      expect(stop).toMatchObject({ code: 0, signal: null });
      // An open socket would hold the process until its forced exit, SHUTDOWN_TIMEOUT_MS + 5 s later.
      expect(stop.ms).toBeLessThan(Number(FAULT_ENV.SHUTDOWN_TIMEOUT_MS) + 5000);
    }
  }, 60_000);
});
