import type { OrderItem } from '@eo/contract';
import {
  checkInvariants,
  delay,
  FaultInjector,
  type FlowCancellations,
  type FlowResult,
  formatReport,
  type InvariantReport,
  type LogLine,
  OrderFlow,
  RedisServer,
  type ServiceProcess,
  SystemHarness,
} from '@eo/local';

/** How the replicas claim: race (the default), or affinity when the `faults-affinity` jest project runs the suite. */
export const CLAIM_MODE = process.env.CLAIM_MODE === 'affinity' ? 'affinity' : 'race';

/** Short timings so every fault plays out in seconds (short TTLs keep the tests short). */
export const FAULT_ENV = {
  LOCK_TTL_MS: '1000',
  SWEEP_INTERVAL_MS: '200',
  RETRY_BASE_MS: '50',
  RETRY_MAX_MS: '400',
  SHUTDOWN_TIMEOUT_MS: '3000',
  LOG_LEVEL: 'debug',
  CLAIM_MODE,
} as const;

/** A system on a private Redis with `appendfsync always`, plus its fault injector and stock. */
export interface FaultRig {
  system: SystemHarness;
  faults: FaultInjector;
  server: RedisServer;
  skus: { scarce: string; ample: string };
  initialStock: Record<string, number>;
  /** Items of the i-th order of a flow: mostly the ample SKU, every third also the scarce one. */
  items(i: number): OrderItem[];
  stop(): Promise<void>;
}

/**
 * Seeds a scarce SKU (40) and an ample one under a fresh prefix, and returns them with the items of
 * the i-th order of a flow: mostly the ample SKU, every third also the scarce one.
 */
export async function seedOrderMix(system: SystemHarness, prefixBase: string): Promise<Pick<FaultRig, 'skus' | 'initialStock' | 'items'>> {
  const prefix = SystemHarness.uniqueId(prefixBase);
  const skus = { scarce: `${prefix}-SCARCE`, ample: `${prefix}-AMPLE` };
  const initialStock = { [skus.scarce]: 40, [skus.ample]: 1_000_000 };
  for (const [sku, n] of Object.entries(initialStock)) await system.seedStock(sku, n);
  return {
    skus,
    initialStock,
    items: (i) =>
      i % 3 === 0
        ? [
            { sku: skus.scarce, quantity: 1 + (i % 2) },
            { sku: skus.ample, quantity: 1 },
          ]
        : [{ sku: skus.ample, quantity: 2 }],
  };
}

/** Starts the rig; `inventoryEnv` adds to {@link FAULT_ENV}. */
export async function startRig(options: { replicas?: number; inventoryEnv?: Record<string, string> } = {}): Promise<FaultRig> {
  const server = await RedisServer.start({ appendfsync: 'always' });
  const system = await SystemHarness.start({
    redisServer: server,
    replicas: options.replicas ?? 3,
    orderEnv: { RECOVERY_GRACE_MS: '500' },
    inventoryEnv: { ...FAULT_ENV, ...options.inventoryEnv },
  });
  return {
    system,
    faults: new FaultInjector(system),
    server,
    ...(await seedOrderMix(system, 'f')),
    stop: async () => {
      await system.stop();
      await server.stop();
    },
  };
}

/**
 * Cancellations in the mix of every fault flow: three orders in ten, each a random 0–1.5 s after its
 * 202, so some are cancelled while PENDING (maybe mid-work) and some once RESERVED (a release).
 */
export const FLOW_CANCELLATIONS = { share: 0.3, maxDelayMs: 1500 } as const;

/** Starts a background flow of `count` orders at `ratePerSecond`, with {@link FLOW_CANCELLATIONS} unless `cancel` says otherwise. */
export function flow(rig: FaultRig, count: number, ratePerSecond: number, options: { cancel?: FlowCancellations | false } = {}): OrderFlow {
  const cancel = options.cancel === false ? undefined : (options.cancel ?? FLOW_CANCELLATIONS);
  return new OrderFlow(rig.system, (i) => rig.items(i), { count, ratePerSecond, maxMs: 60_000, cancel });
}

/** Every order id stored under the rig's keys, whether or not its POST got a 202 (see the Redis restart case). */
export async function storedOrderIds(rig: FaultRig): Promise<string[]> {
  const pattern = rig.system.keys.order('*');
  const prefix = rig.system.keys.order('');
  const ids: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await rig.system.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) ids.push(key.slice(prefix.length));
  } while (cursor !== '0');
  return ids;
}

/**
 * Waits for quiet, then checks the invariants of docs/design.md over every stored order: exactly one terminal
 * status, at most one `order.processed` and one `order.cancelled`, every cancellation the API
 * acknowledged CANCELLED, stock conserved and never oversold, backlog empty.
 * Throws the full report on a violation.
 */
export async function expectInvariants(
  rig: FaultRig,
  result: FlowResult,
  options: { allowFailed?: boolean; allowMissingProcessedLog?: boolean; timeoutMs?: number } = {},
): Promise<InvariantReport> {
  const { system } = rig;
  await system.waitForQuiet(result.accepted, { timeoutMs: options.timeoutMs ?? 30_000 });
  const stored = await storedOrderIds(rig);
  const storedSet = new Set(stored);
  const missing = result.accepted.filter((id) => !storedSet.has(id));
  if (missing.length > 0) throw new Error(`accepted (202) orders missing from Redis: ${missing.slice(0, 5).join(', ')}`);
  await system.waitForQuiet(stored, { timeoutMs: options.timeoutMs ?? 30_000 });
  const report = await checkInvariants({
    redis: system.redis,
    keys: system.keys,
    acceptedOrderIds: stored,
    initialStock: rig.initialStock,
    logs: system.logs,
    allowFailed: options.allowFailed,
    allowMissingProcessedLog: options.allowMissingProcessedLog,
    cancelAnswers: result.cancels,
  });
  if (!report.ok) throw new Error(formatReport(report) + system.crashReport());
  // The mode under test is the one the replicas run: only affinity claiming keeps heartbeats.
  const heartbeats = await system.redis.zcard(system.keys.workers);
  if ((CLAIM_MODE === 'affinity') !== heartbeats > 0) throw new Error(`CLAIM_MODE=${CLAIM_MODE}, yet ${heartbeats} replica heartbeat(s)`);
  const twice = report.processedTwice;
  if (twice.length > 0) throw new Error(`processed more than once: ${JSON.stringify(twice.slice(0, 3))}`);
  return report;
}

/** Lines of one replica with this event (and order, if given). */
export function eventsOf(replica: ServiceProcess, event: string, orderId?: string): LogLine[] {
  return replica.logs.filter((line) => line.event === event && (orderId === undefined || line.orderId === orderId));
}

/**
 * The next order `replica` claims (from its `order.claimed` debug line) for the work `type` names
 * (OrderPlaced: its reservation; OrderCancelled: its release), skipping those `skip` names (the
 * orders a flow is about to cancel, when a test needs its victim's order to stay placed).
 */
export async function waitForClaimInFlight(
  replica: ServiceProcess,
  options: { type?: string; skip?: (orderId: string) => boolean; timeoutMs?: number } = {},
): Promise<string> {
  const { type = 'OrderPlaced', skip = () => false, timeoutMs = 10_000 } = options;
  const line = await replica.waitForLog(
    (l) => l.event === 'order.claimed' && l.type === type && !skip(String(l.orderId)),
    timeoutMs,
    replica.logs.length,
  );
  return String(line.orderId);
}

/**
 * The first of `replicas` to claim work of `type` (its order id), for a test that must catch a
 * release in flight: which replica wins a given race is not up to the test.
 */
export async function waitForAnyClaimInFlight(
  replicas: readonly ServiceProcess[],
  options: { type?: string; timeoutMs?: number } = {},
): Promise<{ replica: ServiceProcess; orderId: string }> {
  return Promise.any(replicas.map(async (replica) => ({ replica, orderId: await waitForClaimInFlight(replica, options) })));
}

export { delay };
