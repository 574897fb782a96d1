/**
 * `npm run soak -- --seconds 60`: the whole system (a private redis-server with `appendfsync always`,
 * the order service, N inventory replicas) under a steady order flow while random faults hit it at
 * random times — SIGKILL, SIGSTOP past the lock TTL, SIGTERM, `CLIENT KILL TYPE pubsub`, a Redis
 * crash-restart, duplicate and garbage messages — then the exactly-once check over every order
 * stored in Redis. Prints a summary; exits 1 on any violation. Not part of `npm test`.
 *
 * Options: --seconds N (60) · --replicas N (3) · --rate N orders/s (100) · --seed N (random; printed,
 * it replays the same order mix and fault sequence) · --fault-every-ms N (mean gap, 3000).
 */
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTerminal, LogEvent, type OrderItem } from '@eo/contract';
import {
  checkInvariants,
  FaultInjector,
  formatReport,
  OrderFlow,
  RedisServer,
  SystemHarness,
  type FaultKind,
  type FlowResult,
  type InvariantReport,
  type ServiceProcess,
} from '@eo/local';
import { int, parseCommandLine, UsageError } from './cli/command-line';

/** Short timings so that every recovery path runs many times within a minute. */
const LOCK_TTL_MS = 1000;
const SHUTDOWN_TIMEOUT_MS = 2000;
const ORDER_ENV = { RECOVERY_GRACE_MS: '500' };
const INVENTORY_ENV = {
  LOCK_TTL_MS: String(LOCK_TTL_MS),
  SWEEP_INTERVAL_MS: '200',
  SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
  RETRY_BASE_MS: '50',
  RETRY_MAX_MS: '500',
  MAX_ATTEMPTS: '10',
};
/** Each replica gets its own work delay in this range (ms), drawn from the seed. */
const WORK_DELAY_MS: readonly [number, number] = [50, 200];
const NAMESPACE = 'soak';
const READY_TIMEOUT_MS = 30_000;
const QUIET_TIMEOUT_MS = 120_000;
/** A second Ctrl-C within this long of the first is the same keypress relayed by npm, not "kill now". */
const SIGNAL_DEBOUNCE_MS = 1000;

const FAULT_KINDS: readonly FaultKind[] = [
  'kill-replica',
  'pause-replica',
  'pubsub-disconnect',
  'redis-restart',
  'duplicate-delivery',
  'garbage-messages',
  'sigterm-replica',
];

const USAGE =
  'usage: npm run soak -- [--seconds N (60)] [--replicas N (3)] [--rate N orders/s (100)] [--seed N] [--fault-every-ms N (3000)]';

interface SoakOptions {
  seconds: number;
  replicas: number;
  rate: number;
  seed: number;
  faultEveryMs: number;
}

function say(message: string): void {
  process.stdout.write(`${message}\n`);
}

function parseOptions(argv: string[]): SoakOptions | undefined {
  const { values, help } = parseCommandLine(argv, {
    seconds: int(1, 86_400, 60),
    replicas: int(1, 16, 3),
    rate: int(1, 5000, 100),
    seed: int(0, 2 ** 32 - 1, randomInt(2 ** 31)),
    'fault-every-ms': int(100, 600_000, 3000),
  });
  if (help) return undefined;
  return {
    seconds: values.seconds,
    replicas: values.replicas,
    rate: values.rate,
    seed: values.seed,
    faultEveryMs: values['fault-every-ms'],
  };
}

/** mulberry32: a small seeded generator, so one seed replays the same order mix and fault choices. */
class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.next() * list.length)];
  }

  /** Exponentially distributed with the given mean (the gaps of a Poisson process). */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

class TimeoutError extends Error {}

/** `promise`, or a {@link TimeoutError} after `ms` (the promise itself keeps running). */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}

/** How a SIGTERMed replica ended. */
interface TermResult {
  replica: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  /** The final stop after the run, rather than a fault. */
  final: boolean;
}

/** Everything the fault loop touches and records. */
class SoakRun {
  readonly faultCounts = Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>;
  readonly terms: TermResult[] = [];
  /** Violations seen while the run went on (a replica that did not drain or come back). */
  readonly incidents: string[] = [];
  /** Ids of forged OrderPlaced envelopes for orders that never existed: none may be created. */
  readonly forged: string[] = [];
  /** Accepted order ids, read from the order service's `order.accepted` lines as they arrive. */
  readonly acceptedSeen: string[] = [];
  lateDuplicated = 0;
  private acceptedScanned = 0;
  private readonly faults: FaultInjector;
  private readonly startedAt = Date.now();

  constructor(
    readonly sys: SystemHarness,
    private readonly rng: Random,
    private readonly signal: AbortSignal,
  ) {
    this.faults = new FaultInjector(sys);
  }

  log(message: string): void {
    const now = new Date();
    say(`[+${((now.getTime() - this.startedAt) / 1000).toFixed(1).padStart(6)} s ${now.toISOString().slice(11, 23)}] ${message}`);
  }

  /** Injects faults at exponentially distributed gaps until `endAt`, one at a time. */
  async injectUntil(endAt: number, meanGapMs: number): Promise<void> {
    const maxFaults = Math.ceil((endAt - Date.now()) / 100) + 1;
    for (let n = 0; n < maxFaults && !this.signal.aborted; n++) {
      const gap = Math.min(Math.max(100, this.rng.exponential(meanGapMs)), 4 * meanGapMs);
      await sleep(Math.min(gap, endAt - Date.now()), this.signal);
      if (this.signal.aborted || Date.now() >= endAt) return;
      const kind = this.rng.pick(FAULT_KINDS);
      this.faultCounts[kind]++;
      try {
        // Each fault is bounded; the longest (a SIGTERM drain plus a restart) is well under a minute.
        await within(this.inject(kind), 60_000, kind);
      } catch (error) {
        this.incident(`${kind} failed: ${firstLine(error)}`);
      }
      await this.ensureReplicasRunning();
    }
  }

  private incident(message: string): void {
    this.incidents.push(message);
    this.log(`VIOLATION ${message}`);
  }

  private pickRunning(): ServiceProcess | undefined {
    const running = this.sys.inventory.filter((replica) => replica.running);
    return running.length ? this.rng.pick(running) : undefined;
  }

  private async inject(kind: FaultKind): Promise<void> {
    switch (kind) {
      case 'kill-replica': {
        const replica = this.pickRunning();
        if (!replica) return this.log('kill-replica: no replica running, skipped');
        await this.faults.killReplica(replica);
        const downMs = this.rng.int(0, 500);
        this.log(`kill -9 ${replica.name}; restarting it in ${downMs} ms`);
        await sleep(downMs, this.signal);
        return this.restart(replica, 'kill -9');
      }
      case 'pause-replica': {
        const replica = this.pickRunning();
        if (!replica) return this.log('pause-replica: no replica running, skipped');
        const ms = this.rng.int(2 * LOCK_TTL_MS, 3 * LOCK_TTL_MS);
        this.log(`SIGSTOP ${replica.name} for ${ms} ms`);
        // pauseReplica sends SIGCONT in a finally: a replica is never left stopped.
        await this.faults.pauseReplica(replica, ms);
        return this.log(`SIGCONT ${replica.name}`);
      }
      case 'pubsub-disconnect': {
        const cut = await this.faults.killPubsubClients();
        return this.log(`CLIENT KILL TYPE pubsub: ${cut} subscriber connection(s) cut`);
      }
      case 'redis-restart': {
        const downMs = this.rng.int(500, 1500);
        this.log(`redis-server SIGKILL, down ${downMs} ms`);
        await this.faults.restartRedis(downMs, 'SIGKILL');
        const startedAt = Date.now();
        const running = this.sys.processes.filter((p) => p.running);
        const ready = await Promise.allSettled(running.map((p) => p.waitForReady(READY_TIMEOUT_MS)));
        ready.forEach((result, i) => {
          if (result.status === 'rejected')
            this.incident(`${running[i].name} not ready after the Redis restart: ${firstLine(result.reason)}`);
        });
        return this.log(`redis-server back; every service ready again after ${Date.now() - startedAt} ms`);
      }
      case 'duplicate-delivery':
        return this.duplicate();
      case 'garbage-messages': {
        const sent = await this.faults.publishGarbage();
        // A well-formed envelope for an order that was never accepted: must not create one.
        const forgedId = `forged-${this.forged.length}-${this.rng.int(0, 1e9)}`;
        this.forged.push(forgedId);
        await this.faults.publishDuplicates(forgedId, [{ sku: 'SCARCE-1', quantity: 1 }], 1);
        return this.log(`published ${sent} malformed message(s) and a forged envelope for ${forgedId}`);
      }
      case 'sigterm-replica': {
        const replica = this.pickRunning();
        if (!replica) return this.log('sigterm-replica: no replica running, skipped');
        this.log(`SIGTERM ${replica.name}`);
        const term = await this.terminate(replica, false);
        this.log(`${replica.name} exited ${term.signal ?? `code ${term.code}`} after ${term.ms} ms; restarting it`);
        return this.restart(replica, 'SIGTERM');
      }
    }
  }

  /** SIGTERM and wait for the drain (bounded); a non-zero exit or a hang is a violation. */
  async terminate(replica: ServiceProcess, final: boolean): Promise<TermResult> {
    const budget = SHUTDOWN_TIMEOUT_MS + 10_000;
    let term: TermResult;
    try {
      const result = await within(this.faults.terminateReplica(replica), budget, `${replica.name} SIGTERM drain`);
      term = { replica: replica.name, ...result, final };
    } catch (error) {
      await replica.kill('SIGKILL');
      this.incident(`${replica.name} did not exit within ${budget} ms of SIGTERM (killed): ${firstLine(error)}`);
      term = { replica: replica.name, code: null, signal: 'SIGKILL', ms: budget, final };
    }
    this.terms.push(term);
    if (term.code !== 0 && term.signal !== 'SIGKILL') {
      this.incident(`${replica.name} exited ${term.signal ?? `code ${term.code}`} after SIGTERM${final ? ' (final stop)' : ''}`);
    }
    return term;
  }

  private async restart(replica: ServiceProcess, after: string): Promise<void> {
    const startedAt = Date.now();
    replica.start();
    try {
      await replica.waitForReady(READY_TIMEOUT_MS);
      this.log(`${replica.name} ready again after ${Date.now() - startedAt} ms`);
    } catch (error) {
      this.incident(`${replica.name} did not become ready after ${after}: ${firstLine(error)}`);
    }
  }

  /** Restarts any replica that is down (one that crashed on its own is already in `sys.crashes`). */
  async ensureReplicasRunning(): Promise<void> {
    for (const replica of this.sys.inventory) {
      if (!replica.running && !this.signal.aborted) await this.restart(replica, 'an unexpected exit');
    }
  }

  /** Picks up accepted order ids from the order service's log lines printed since the last call. */
  private collectAccepted(): void {
    const logs = this.sys.order.logs;
    for (; this.acceptedScanned < logs.length; this.acceptedScanned++) {
      const line = logs[this.acceptedScanned];
      if (line.event === LogEvent.OrderAccepted && typeof line.orderId === 'string') this.acceptedSeen.push(line.orderId);
    }
  }

  private async itemsOf(orderId: string): Promise<OrderItem[] | undefined> {
    return (await this.sys.store.get(orderId))?.view.items;
  }

  /** Redelivers a just-accepted order (likely in flight) several times, and an older, finished one. */
  private async duplicate(): Promise<void> {
    this.collectAccepted();
    const seen = this.acceptedSeen;
    if (seen.length === 0) return this.log('duplicate-delivery: nothing accepted yet, skipped');
    const recent = seen[this.rng.int(Math.max(0, seen.length - 20), seen.length - 1)];
    const times = this.rng.int(2, 5);
    const items = await this.itemsOf(recent);
    if (items) await this.faults.publishDuplicates(recent, items, times);
    const older = seen[this.rng.int(0, Math.max(0, seen.length - 100))];
    const [status] = await this.sys.store.statuses([older]);
    const olderItems = await this.itemsOf(older);
    if (olderItems) await this.faults.publishDuplicates(older, olderItems, 2);
    this.log(`duplicate delivery: ${recent} ×${times} (recent), ${older} ×2 (${status ?? 'missing'})`);
  }

  /** After quiet: every finished order in a sample delivered again, late. */
  async redeliverFinished(count: number): Promise<void> {
    this.collectAccepted();
    const seen = this.acceptedSeen;
    for (let i = 0; i < Math.min(count, seen.length); i++) {
      const orderId = seen[this.rng.int(0, seen.length - 1)];
      const items = await this.itemsOf(orderId);
      if (!items) continue;
      await this.faults.publishDuplicates(orderId, items, 3);
      this.lateDuplicated++;
    }
    this.log(`late duplicates: ${this.lateDuplicated} finished order(s) delivered 3× each`);
  }
}

/** 1–3 distinct SKUs, quantities 1–3; about half the orders want a scarce SKU. */
function orderMaker(rng: Random, ample: readonly string[], scarce: readonly string[]): (i: number) => OrderItem[] {
  return () => {
    const skus = new Set<string>([rng.pick(ample)]);
    if (rng.next() < 0.5) skus.add(rng.pick(scarce));
    if (rng.next() < 0.3) skus.add(rng.pick(ample));
    return [...skus].map((sku) => ({ sku, quantity: rng.int(1, 3) }));
  };
}

function countBy<T>(list: readonly T[], key: (item: T) => string): string {
  const counts = new Map<string, number>();
  for (const item of list) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k} ×${n}`).join(', ') || '-';
}

function writeLogs(sys: SystemHarness, seed: number): string {
  const file = join(tmpdir(), `eo-soak-${seed}-${Date.now()}.jsonl`);
  const lines: string[] = [];
  for (const p of sys.processes) {
    for (const line of p.logs) lines.push(JSON.stringify({ process: p.name, ...line }));
    for (const raw of p.rawLines) lines.push(JSON.stringify({ process: p.name, raw: raw.text, stream: raw.stream, at: raw.time }));
  }
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

interface Outcome {
  options: SoakOptions;
  durationMs: number;
  flow: FlowResult;
  run: SoakRun;
  report: InvariantReport;
  stored: number;
  storedWithout202: number;
  violations: string[];
}

function printSummary(o: Outcome): void {
  const { flow, run, report } = o;
  const refused = Object.entries(flow.refusedByStatus).map(([status, n]) => `${status} ×${n}`);
  if (flow.networkErrors) refused.push(`network error ×${flow.networkErrors}`);
  const terms = run.terms.filter((t) => !t.final);
  const finals = run.terms.filter((t) => t.final);
  const exit = (t: TermResult): string => (t.signal ? t.signal : `code ${t.code}`);
  const rows: Array<[string, string]> = [
    ['seed', String(o.options.seed)],
    [
      'duration',
      `${(o.durationMs / 1000).toFixed(1)} s (flow ${o.options.seconds} s at ${o.options.rate}/s, ${o.options.replicas} replicas)`,
    ],
    ['orders accepted (202)', String(flow.accepted.length)],
    ['refused', refused.join(', ') || '0'],
    ['stored in Redis', `${o.stored} (${o.storedWithout202} without a 202: reply lost while Redis crashed)`],
    [
      'terminal',
      `RESERVED ${report.reserved}, REJECTED ${report.rejected}, FAILED ${report.failed}, CANCELLED ${report.cancelled}, still PENDING ${report.pending}`,
    ],
    [
      'cancellations',
      `${flow.cancels.length} requested; ${report.cancellations?.beforeProcessing ?? 0} before processing, ${report.cancellations?.released ?? 0} released`,
    ],
    ['faults injected', FAULT_KINDS.map((kind) => `${kind} ${run.faultCounts[kind]}`).join(', ')],
    ['late duplicates', `${run.lateDuplicated} finished order(s) ×3`],
    ['processed twice', String(report.processedTwice.length)],
    ['released twice', String(report.cancelledTwice.length)],
    ['lost', String(report.lost.length)],
    ['stock drift', report.drift.length === 0 ? '0' : report.drift.map((d) => `${d.sku}:${d.drift}`).join(' ')],
    ['oversold SKUs', String(report.oversold.length)],
    ['reserved = Σ RESERVED', report.reservedMismatch.length === 0 ? 'yes' : 'NO'],
    ['backlog left', report.backlog ? String(report.backlog.total) : 'n/a'],
    ['no order.processed line', `${report.unlogged.length} (allowed: a replica SIGKILLed between commit and log)`],
    [
      'processed per replica',
      Object.entries(report.processedPerReplica)
        .map(([r, n]) => `${r} ${n}`)
        .join(', ') || '-',
    ],
    ['exit after SIGTERM', terms.length ? `${countBy(terms, exit)}; drain max ${Math.max(...terms.map((t) => t.ms))} ms` : '-'],
    ['exit at final stop', countBy(finals, exit)],
    ['unexpected exits', String(run.sys.crashes.length)],
    ['result', o.violations.length === 0 ? 'OK' : `VIOLATION (${o.violations.length})`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  say('\nSoak summary');
  for (const [k, v] of rows) say(`  ${k.padEnd(width)}  ${v}`);
}

async function soak(options: SoakOptions, signal: AbortSignal, track: (redis?: RedisServer, sys?: SystemHarness) => void): Promise<number> {
  const started = Date.now();
  const orderRng = new Random(options.seed);
  const faultRng = new Random(options.seed ^ 0x9e3779b9);
  say(
    `soak: ${options.seconds} s at ${options.rate} orders/s, ${options.replicas} replica(s), a fault every ~${options.faultEveryMs} ms, seed ${options.seed}`,
  );
  say(
    `  replay: npm run soak -- --seconds ${options.seconds} --replicas ${options.replicas} --rate ${options.rate} --seed ${options.seed}`,
  );

  const redis = await RedisServer.start({ appendfsync: 'always', detached: true });
  track(redis);
  if (signal.aborted) return 130;
  const sys = await SystemHarness.start({
    redisServer: redis,
    namespace: NAMESPACE,
    replicas: 0,
    detached: true,
    signal,
    readyTimeoutMs: READY_TIMEOUT_MS,
    env: { LOG_LEVEL: 'info', DD_ENV: 'soak' },
    orderEnv: ORDER_ENV,
    inventoryEnv: INVENTORY_ENV,
  });
  track(redis, sys);
  const run = new SoakRun(sys, faultRng, signal);
  const delays: number[] = [];
  for (let i = 0; i < options.replicas && !signal.aborted; i++) {
    const workDelay = faultRng.int(...WORK_DELAY_MS);
    delays.push(workDelay);
    await sys.startInventory(1, { INVENTORY_WORK_DELAY_MS: String(workDelay) });
  }
  if (signal.aborted) return 130;
  say(`  redis ${redis.url} (AOF, fsync always), order ${sys.orderUrl}, replicas' work delay ${delays.join('/')} ms`);

  // Scarce SKUs run out about halfway through, so reserve-vs-reject races on them under faults.
  const total = options.seconds * options.rate;
  const scarce = ['SCARCE-1', 'SCARCE-2', 'SCARCE-3', 'SCARCE-4'];
  const ample = ['AMPLE-1', 'AMPLE-2', 'AMPLE-3', 'AMPLE-4'];
  const initialStock: Record<string, number> = {};
  for (const sku of scarce) initialStock[sku] = Math.max(10, Math.round(total / 8));
  for (const sku of ample) initialStock[sku] = 10 * total + 1000;
  for (const [sku, available] of Object.entries(initialStock)) await sys.seedStock(sku, available);
  say(`  stock: ${scarce.length} scarce SKUs × ${initialStock[scarce[0]]}, ${ample.length} ample × ${initialStock[ample[0]]}\n`);

  const flow = new OrderFlow(sys, orderMaker(orderRng, ample, scarce), {
    count: total,
    ratePerSecond: options.rate,
    concurrency: 64,
    maxMs: options.seconds * 1000,
    // A fifth cancelled at random moments: while PENDING (maybe mid-work), or once RESERVED (a release).
    cancel: { share: 0.2, maxDelayMs: 2000 },
  });
  const stopFlow = (): void => flow.stop();
  signal.addEventListener('abort', stopFlow, { once: true });
  try {
    await run.injectUntil(Date.now() + options.seconds * 1000, options.faultEveryMs);
  } finally {
    flow.stop();
    signal.removeEventListener('abort', stopFlow);
  }
  const result = await flow.done;
  if (signal.aborted) {
    say(`interrupted: ${result.accepted.length} order(s) accepted; not checking`);
    return 130;
  }
  run.log(`order flow done: ${result.accepted.length} accepted; waiting for quiet`);

  const violations: string[] = [];
  await run.ensureReplicasRunning();
  const waitQuiet = async (ids: readonly string[]): Promise<void> => {
    try {
      await sys.waitForQuiet(ids, { timeoutMs: QUIET_TIMEOUT_MS, logSettleMs: 3000 });
    } catch (error) {
      violations.push(firstLine(error));
    }
  };
  await waitQuiet(result.accepted);
  run.log('quiet');
  await run.redeliverFinished(20);
  await sleep(2 * LOCK_TTL_MS, signal);
  // Orders stored whose 202 was lost count too: they are on the backlog until processed.
  let stored = await sys.store.allIds();
  await waitQuiet(stored);
  stored = await sys.store.allIds();
  run.log(`quiet again; ${stored.length} order(s) stored under ${sys.keys.order('*')}`);

  const storedSet = new Set(stored);
  const notStored = result.accepted.filter((id) => !storedSet.has(id));
  if (notStored.length) violations.push(`${notStored.length} accepted order(s) not found by SCAN: ${notStored.slice(0, 5).join(', ')}`);
  const acceptedSet = new Set(result.accepted);
  const forgedStored = run.forged.filter((id) => storedSet.has(id));
  if (forgedStored.length) violations.push(`forged envelopes created ${forgedStored.length} order(s): ${forgedStored.join(', ')}`);
  const report = await checkInvariants({
    redis: sys.redis,
    keys: sys.keys,
    acceptedOrderIds: [...result.accepted, ...stored],
    initialStock,
    logs: sys.logs,
    allowMissingProcessedLog: true,
    cancelAnswers: result.cancels,
  });
  const unsettledAccepted = (await sys.store.statuses(result.accepted)).filter((status) => !isTerminal(status)).length;
  if (unsettledAccepted) violations.push(`${unsettledAccepted} accepted order(s) not terminal`);
  violations.push(...report.violations);
  for (const crash of sys.crashes)
    violations.push(`${crash.name} exited unexpectedly (${crash.result.signal ?? `code ${crash.result.code}`})`);

  // The final stop is a SIGTERM too: its exit codes count.
  await Promise.all(sys.inventory.filter((replica) => replica.running).map((replica) => run.terminate(replica, true)));
  violations.push(...run.incidents);

  printSummary({
    options,
    durationMs: Date.now() - started,
    flow: result,
    run,
    report,
    stored: stored.length,
    storedWithout202: stored.filter((id) => !acceptedSet.has(id)).length,
    violations: [...new Set(violations)],
  });
  if (violations.length === 0) return 0;
  say('\nInvariant report:');
  say(formatReport(report).replace(/^/gm, '  '));
  say('\nViolations:');
  for (const v of new Set(violations)) say(`  - ${v}`);
  const crashes = sys.crashReport();
  if (crashes) say(crashes);
  say(`\nEvery service log line: ${writeLogs(sys, options.seed)}`);
  return 1;
}

async function main(): Promise<number> {
  let options: SoakOptions | undefined;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n${USAGE}\n`);
    return 2;
  }
  if (!options) {
    say(USAGE);
    return 0;
  }

  // Children run in their own process groups (a Ctrl-C reaches only us); every exit path stops them.
  let redis: RedisServer | undefined;
  let sys: SystemHarness | undefined;
  const abort = new AbortController();
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (firstSignalAt === 0) {
      firstSignalAt = Date.now();
      say(`\n${signal}: stopping the flow and the system (again to kill at once)`);
      abort.abort(new Error(signal));
      return;
    }
    if (Date.now() - firstSignalAt < SIGNAL_DEBOUNCE_MS) return;
    say(`${signal} again: killing everything`);
    for (const p of sys?.processes ?? []) void p.kill('SIGKILL');
    void redis?.stop({ signal: 'SIGKILL' }).finally(() => process.exit(130));
    setTimeout(() => process.exit(130), 2000).unref();
  };
  const killRedisOnExit = (): void => {
    // ServiceProcess kills its own children on exit; the redis-server is ours to kill.
    const pid = redis?.pid;
    if (pid === undefined) return;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  process.on('exit', killRedisOnExit);
  try {
    return await soak(options, abort.signal, (r, s) => {
      redis = r;
      sys = s;
    });
  } finally {
    await sys?.stop(SHUTDOWN_TIMEOUT_MS + 5000);
    await redis?.stop();
    if (abort.signal.aborted) say('stopped');
  }
}

main().then(
  (code) => {
    process.exitCode = code;
    // Everything is closed; this only guards against a handle we do not know of.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (error: unknown) => {
    process.stderr.write(`soak failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 2000).unref();
  },
);
