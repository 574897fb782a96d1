import { rendezvousRank } from '@eo/exactly-once';
import { CLAIM_MODE, delay, expectInvariants, type FaultRig, flow, startRig } from './support';

let rig: FaultRig;
/** The pause: short enough that the replica's heartbeat (3 s lifetime) still counts it live. */
const PAUSE_MS = 1200;
/** What `CLAIM_HEDGE_MS` defaults to; the rig leaves it so. */
const HEDGE_MS = 250;

beforeAll(async () => {
  rig = await startRig();
}, 60_000);
afterAll(() => rig?.stop());

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

describe('a replica paused (SIGSTOP) while still counted live, orders flowing', () => {
  it('costs the orders it owns one hedge delay with affinity claiming (its runner-up takes them), nothing when racing', async () => {
    const { system, faults } = rig;
    const [victim] = system.inventory;
    const names = system.inventory.map((replica) => replica.name);
    await delay(1500); // every replica's view of the live replicas lists all three
    const orders = flow(rig, 80, 40, { cancel: false });
    await delay(300);
    const pausedAt = Date.now();
    await faults.pauseReplica(victim, PAUSE_MS);
    const result = await orders.done;
    await expectInvariants(rig, result);

    // Orders sent after the replica stopped (so it cannot have claimed them: a hedge never takes
    // work an attempt has started) and early enough that a hedge fired before it came back.
    const duringPause = result.answers
      .filter((a) => a.status === 202 && a.orderId && a.sentAt > pausedAt && a.answeredAt <= pausedAt + PAUSE_MS - 2 * HEDGE_MS)
      .map((a) => a.orderId!);
    const owned = duringPause.filter((id) => rendezvousRank(id, victim.name, names) === 0);
    expect(owned.length).toBeGreaterThan(0);

    const acceptToCommitMs = async (orderId: string): Promise<number> => {
      const order = (await system.getOrder(orderId)).body;
      return Date.parse(order.processedAt!) - Date.parse(order.createdAt);
    };
    const processed = new Map(system.logs.filter((l) => l.event === 'order.processed').map((l) => [String(l.orderId), l]));
    const lateness: number[] = [];
    for (const orderId of owned) {
      const line = processed.get(orderId);
      // Every replica's lines about the order, shown if the expectation fails.
      const trail = system.logs
        .filter((l) => l.orderId === orderId)
        .map((l) => [l.replica, l.event, l.reason, l.source].filter(Boolean).join(' '));
      if (CLAIM_MODE === 'affinity') {
        // Not the sweep's RECOVERY_GRACE_MS later: the replica ranked second, one hedge delay after.
        const runnerUp = names.find((name) => rendezvousRank(orderId, name, names) === 1);
        expect({ processed: line, trail }).toMatchObject({ processed: { source: 'hedge', replica: runnerUp } });
      } else {
        expect({ processed: line, trail }).toMatchObject({ processed: { source: 'message' } });
        expect(line?.replica).not.toBe(victim.name);
      }
      lateness.push(await acceptToCommitMs(orderId));
    }
    const others = duringPause.filter((id) => !owned.includes(id));
    const othersLateness = await Promise.all(others.map(acceptToCommitMs));
    if (CLAIM_MODE === 'race') expect(system.logs.filter((l) => l.source === 'hedge')).toEqual([]);
    console.log(
      `CLAIM_MODE=${CLAIM_MODE}, one of 3 replicas paused ${PAUSE_MS} ms: accept→commit of the ${owned.length} orders it owns ` +
        `median ${median(lateness)} ms, max ${Math.max(...lateness)} ms; of the ${others.length} others median ${median(othersLateness)} ms ` +
        `(CLAIM_HEDGE_MS ${HEDGE_MS})`,
    );
    expect(system.crashes).toEqual([]);
  }, 90_000);
});
