import { delay, flow } from '../faults/support';
import { expectSurvived, type FailoverRig, startFailoverRig } from './support';

let rig: FailoverRig;

beforeAll(async () => {
  rig = await startFailoverRig();
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
    await topology.waitForReplicas(promoted, 1, 60_000);
    const result = await orders.done;
    await expectSurvived(rig, result, 'SENTINEL FAILOVER', faultAt);
  }, 180_000);
});
