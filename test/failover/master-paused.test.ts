import { delay, flow } from '../faults/support';
import { expectSurvived, type FailoverRig, REDIS_REPLICAS, startFailoverRig, waitForStatus } from './support';

let rig: FailoverRig;

beforeAll(async () => {
  rig = await startFailoverRig({ redisReplicas: REDIS_REPLICAS });
}, 90_000);
afterAll(() => rig?.stop());

describe('Sentinel: the master is paused (SIGSTOP) past the promotion of its replica, then resumes (a zombie master)', () => {
  it('loses no confirmed order: nothing the zombie takes is confirmed, and the services leave it', async () => {
    const { topology } = rig;
    const orders = flow(rig, 1200, 60);
    await delay(2000);
    const old = await topology.master();
    const faultAt = Date.now();
    old.pause();
    // Not ready while no writable master answers (the paused one answers nothing).
    const notReady = await waitForStatus(`${rig.system.orderUrl}/health/ready`, 503, 10_000);
    expect(notReady).toBe(503);
    const promoted = await topology.waitForNewMaster(old);
    // The zombie comes back believing it is master until Sentinel demotes it.
    old.resume();
    await topology.waitForReplicas(promoted, topology.nodes.length - 1, 60_000);
    const result = await orders.done;
    expect(await topology.role(old)).toBe('slave');
    await expectSurvived(rig, result, 'master SIGSTOP past promotion, then SIGCONT', faultAt);
  }, 180_000);
});
