import { availabilityGap, delay, type FlowResult, type InvariantReport, SentinelTopology, SystemHarness, FaultInjector } from '@eo/local';
import { expectInvariants, FAULT_ENV, type FaultRig, seedOrderMix } from '../faults/support';

/** Every confirmed write needs one replica, within half a second. */
export const WAIT_ENV = { REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '500' } as const;

/** A {@link FaultRig} whose Redis is a Sentinel topology (one master, one replica, three Sentinels). */
export interface FailoverRig extends FaultRig {
  topology: SentinelTopology;
  /** REDIS_WAIT_REPLICAS of the services. */
  waitReplicas: string;
}

/**
 * The topology's replicas and `REDIS_WAIT_REPLICAS`: 1 and 1 as the tests assert. For measurements,
 * `FAILOVER_REDIS_REPLICAS` (and `FAILOVER_WAIT_REPLICAS`, default the same) change them
 * (docs/high-availability.md).
 */
export const REDIS_REPLICAS = Number(process.env.FAILOVER_REDIS_REPLICAS ?? 1);
const WAIT_REPLICAS = process.env.FAILOVER_WAIT_REPLICAS ?? String(REDIS_REPLICAS);

/** Starts the topology and a system on it (`REDIS_URL=redis+sentinel://…`, {@link WAIT_ENV}). */
export async function startFailoverRig(options: { redisReplicas?: number } = {}): Promise<FailoverRig> {
  const topology = await SentinelTopology.start({ replicas: options.redisReplicas ?? 1 });
  const waitReplicas = options.redisReplicas === undefined ? WAIT_ENV.REDIS_WAIT_REPLICAS : WAIT_REPLICAS;
  let system: SystemHarness;
  try {
    system = await SystemHarness.start({
      redisUrl: topology.url,
      replicas: 3,
      env: { ...WAIT_ENV, REDIS_WAIT_REPLICAS: waitReplicas },
      orderEnv: { RECOVERY_GRACE_MS: '500' },
      inventoryEnv: FAULT_ENV,
    });
  } catch (error) {
    await topology.stop();
    throw error;
  }
  const mix = await seedOrderMix(system, 'fo');
  // The seeded stock must survive the failover like everything after it.
  await system.redis.wait(topology.nodes.length - 1, 5000);
  return {
    topology,
    waitReplicas,
    system,
    faults: new FaultInjector(system),
    server: topology.nodes[0],
    ...mix,
    stop: async () => {
      await system.stop();
      await topology.stop();
    },
  };
}

/** Polls `url` until it answers `status` (or `timeoutMs` passes); resolves with the last status. */
export async function waitForStatus(url: string, status: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = await fetch(url, { signal: AbortSignal.timeout(3000) }).then(
      (r) => r.status,
      () => 0,
    );
    if (last === status || Date.now() > deadline) return last;
    await delay(200);
  }
}

/** Waits until every service answers `/health/ready` with 200 (none was restarted). */
export async function waitUntilAllReady(system: SystemHarness, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const service of system.processes) {
    for (;;) {
      const status = await fetch(`${service.url}/health/ready`).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) break;
      if (Date.now() > deadline) throw new Error(`${service.name} not ready ${timeoutMs} ms after the fault (last status ${status})`);
      await delay(200);
    }
  }
}

/**
 * After the fault: every service ready again without a restart, then the invariants of docs/design.md on the
 * master Sentinel names now (no 2xx'd order missing or non-terminal, at most one order.processed
 * each, exactly one per RESERVED/REJECTED, stock conserved). Prints the availability gap.
 */
export async function expectSurvived(rig: FailoverRig, result: FlowResult, fault: string, faultAt: number): Promise<InvariantReport> {
  await waitUntilAllReady(rig.system);
  const report = await expectInvariants(rig, result, { timeoutMs: 60_000 });
  expect(result.accepted.length).toBeGreaterThan(0);
  expect(rig.system.crashes).toEqual([]);
  const gap = availabilityGap(result, faultAt);
  expect(gap).toBeDefined();
  const refused = Object.entries(result.refusedByStatus)
    .map(([status, n]) => `${n}×${status}`)
    .join(', ');
  console.log(
    `${fault} (${rig.topology.nodes.length - 1} replica(s), REDIS_WAIT_REPLICAS=${rig.waitReplicas}): availability gap ${gap} ms (longest stretch after the fault without a 2xx); ${result.accepted.length} accepted, ` +
      `${refused || 'none refused'}, ${result.networkErrors} network errors; ${report.reserved} reserved, ${report.rejected} rejected`,
  );
  return report;
}
