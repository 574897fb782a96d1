import { delay, flow } from '../faults/support';
import { expectSurvived, type FailoverRig, REDIS_REPLICAS, startFailoverRig } from './support';

let rig: FailoverRig;

beforeAll(async () => {
  rig = await startFailoverRig({ redisReplicas: REDIS_REPLICAS });
}, 90_000);
afterAll(() => rig?.stop());

describe('Sentinel: the master is killed (kill -9) while orders flow, REDIS_WAIT_REPLICAS=1', () => {
  it('promotes the replica; every confirmed order survives and is processed exactly once', async () => {
    const { topology } = rig;
    const orders = flow(rig, 900, 60);
    await delay(2000);
    const old = await topology.master();
    const faultAt = Date.now();
    await old.stop({ keepData: true, signal: 'SIGKILL' });
    const promoted = await topology.waitForNewMaster(old);
    // Back as a replica of the new master: until then no write can be confirmed.
    old.setReplicaOf(promoted.port);
    await old.restart();
    const result = await orders.done;
    expect(result.refusedByStatus[503]).toBeGreaterThan(0);
    await expectSurvived(rig, result, 'master kill -9', faultAt);
  }, 180_000);
});
