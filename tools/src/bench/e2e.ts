/**
 * `npm run bench`: the whole path under load, measured from the services' own timestamps.
 *
 * Per replica count: a private redis-server (AOF, appendfsync everysec), a raw baseline (one Node
 * process with ioredis doing PUBLISH + SET NX PX round trips against that Redis), then the system
 * (order service + N inventory replicas, as shipped) driven with POST /orders by autocannon at full
 * speed, then at half the measured completion rate; then a MONITOR sample that counts round trips.
 * Reports accepted and completed orders/s, accept→terminal latency (createdAt → processedAt in
 * Redis), Redis commands per order, CPU per order and RSS per process, the exactly-once check, and
 * the targets of issue 6 next to the figures (printed, never asserted). `--repeat K` runs the whole
 * sweep K times, interleaved (1, 3, 6, 1, 3, 6, …), and judges throughput by each replica count's
 * median: on a shared 2-core machine one run moves by ±10 %, and a ratio of two runs twice that.
 *
 *   npm run bench -- [--replicas 3 | --sweep 1,3,6] [--repeat 1] [--seconds 15] [--connections 64]
 *                    [--tracing on|off] [--wait-replicas 0] [--publish | --out DIR] [--cpu-prof DIR]
 *
 * `--wait-replicas N` gives the Redis N replicas and runs the services with REDIS_WAIT_REPLICAS=N:
 * what confirming every accept, commit and stock write on a replica costs.
 *
 * Everything runs on 127.0.0.1 against Redis servers this process starts; the one on 6379 is never
 * touched. Results: JSON + SVG chart in .cache/bench/ (docs/bench/ with --publish).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { cpus, totalmem } from 'node:os';
import { basename, join, resolve } from 'node:path';
import autocannon from 'autocannon';
import type { Redis } from 'ioredis';
import { LogEvent, type OrderItem, OrderStore, type RedisKeys } from '@eo/contract';
import { ENGINE_SCRIPTS, scriptSource, type ScriptSet } from '@eo/exactly-once';
import { STOCK_SCRIPTS } from '@eo/inventory/scripts';
import { ORDER_SCRIPTS } from '@eo/order/scripts';
import { checkInvariants, delay, formatReport, RedisServer, repoRoot, SystemHarness, type InvariantReport } from '@eo/testing';
import { startAgentSink } from './agent-sink';
import { pacedLoad } from './paced-load';
import { percentiles, type Percentiles } from './percentiles';
import { CLK_TCK, cpuSeconds, machineCpu, memory } from './proc';

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  replicas: number[];
  /** Rounds of the whole sweep. */
  repeat: number;
  seconds: number;
  connections: number;
  tracing: boolean;
  /** Replicas of the bench's Redis, and REDIS_WAIT_REPLICAS of the services. */
  waitReplicas: number;
  outDir: string;
  publish: boolean;
  /** Write a V8 CPU profile of every service process into this directory. */
  cpuProfDir?: string;
}

const USAGE = `usage: npm run bench -- [--replicas N | --sweep 1,3,6] [--repeat 1] [--seconds 15] [--connections 64] [--tracing on|off] [--wait-replicas 0] [--publish | --out DIR] [--cpu-prof DIR]`;

/** A bad command line: printed without a stack trace. */
class UsageError extends Error {}

function parseOptions(argv: string[]): Options {
  const root = repoRoot();
  const options: Options = {
    replicas: [3],
    repeat: 1,
    seconds: 15,
    connections: 64,
    tracing: true,
    waitReplicas: 0,
    outDir: '',
    publish: false,
  };
  let out: string | undefined;
  const positiveInt = (name: string, raw: string | undefined, max: number): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > max)
      throw new UsageError(`--${name} must be an integer from 1 to ${max}, got "${raw}"`);
    return value;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string | undefined => argv[++i];
    switch (flag) {
      case '--replicas':
        options.replicas = [positiveInt('replicas', value(), 32)];
        break;
      case '--sweep':
        options.replicas = (value() ?? '').split(',').map((n) => positiveInt('sweep', n.trim(), 32));
        break;
      case '--repeat':
        options.repeat = positiveInt('repeat', value(), 10);
        break;
      case '--seconds':
        options.seconds = positiveInt('seconds', value(), 3600);
        break;
      case '--connections':
        options.connections = positiveInt('connections', value(), 1000);
        break;
      case '--tracing': {
        const v = value();
        if (v !== 'on' && v !== 'off') throw new UsageError(`--tracing must be on or off, got "${v}"`);
        options.tracing = v === 'on';
        break;
      }
      case '--wait-replicas': {
        const raw = value();
        const n = Number(raw);
        if (!Number.isInteger(n) || n < 0 || n > 4) throw new UsageError(`--wait-replicas must be an integer from 0 to 4, got "${raw}"`);
        options.waitReplicas = n;
        break;
      }
      case '--out':
        out = value();
        if (!out) throw new UsageError('--out needs a directory');
        break;
      case '--publish':
        options.publish = true;
        break;
      case '--cpu-prof': {
        const dir = value();
        if (!dir) throw new UsageError('--cpu-prof needs a directory');
        options.cpuProfDir = resolve(dir);
        break;
      }
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
        break;
      default:
        throw new UsageError(`unknown option "${flag}"\n${USAGE}`);
    }
  }
  options.outDir = out ?? join(root, options.publish ? 'docs/bench' : '.cache/bench');
  return options;
}

// ---------------------------------------------------------------------------------------------
// Fixed parameters

const WARMUP_SECONDS = 2;
const BASELINE_SECONDS = 4;
const BASELINE_WARMUP_SECONDS = 1;
const SAMPLE_ORDERS = 500;
const RSS_SAMPLE_MS = 2000;
/** Shorter phases print the RSS growth but no verdict on the flat-RSS target. */
const RSS_MIN_SECONDS = 60;
const SKUS = Array.from({ length: 8 }, (_, i) => `BENCH-${i + 1}`);
const SKU_STOCK = 1_000_000_000;
/** Two items per order over 8 ample SKUs: a realistic commit (2 stock hashes), never short of stock. */
const ORDER_BODIES = SKUS.map((sku, i) =>
  JSON.stringify({
    items: [
      { sku, quantity: 1 },
      { sku: SKUS[(i + 3) % SKUS.length], quantity: 2 },
    ] satisfies OrderItem[],
  }),
);

const TARGETS = {
  completedPerSec3: 4500,
  p99HalfMs: 25,
  sixOverThree: 0.8,
  rssGrowth: 0.1,
};

// ---------------------------------------------------------------------------------------------
// /proc readings

interface Proc {
  name: string;
  pid: number | 'self';
}

function cpuSnapshot(procs: Proc[]): Record<string, number> {
  return Object.fromEntries(procs.map((p) => [p.name, cpuSeconds(p.pid)]));
}

// ---------------------------------------------------------------------------------------------
// Redis readings

type CommandStats = Record<string, { calls: number; failed: number }>;

async function commandStats(redis: Redis): Promise<CommandStats> {
  const info = await redis.info('commandstats');
  const stats: CommandStats = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),.*?failed_calls=(\d+)/gm)) {
    stats[match[1]] = { calls: Number(match[2]), failed: Number(match[3]) };
  }
  return stats;
}

/** `after - before`, without the bench's own commands (`own`: calls this process made in between). */
function statsDelta(before: CommandStats, after: CommandStats, own: Record<string, number>): CommandStats {
  const delta: CommandStats = {};
  for (const [name, { calls, failed }] of Object.entries(after)) {
    const n = calls - (before[name]?.calls ?? 0) - (own[name] ?? 0);
    if (n > 0) delta[name] = { calls: n, failed: failed - (before[name]?.failed ?? 0) };
  }
  return delta;
}

/** Polls ZCARD orders:pending until it is 0 (every accepted order is on it until it is terminal). */
async function waitForEmptyBacklog(redis: Redis, keys: RedisKeys, timeoutMs: number, own: Record<string, number>): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    own.zcard = (own.zcard ?? 0) + 1;
    if ((await redis.zcard(keys.pending)) === 0) return true;
    if (Date.now() > deadline || interrupted) return false;
    await delay(25);
  }
}

interface OrderTimes {
  /** accept→terminal in ms, per terminal order. */
  latencies: number[];
  completed: number;
  notTerminal: number;
  firstCreated: number;
  lastProcessed: number;
  statuses: Record<string, number>;
}

/** Status, createdAt and processedAt of every order, through the contract's OrderStore. */
async function readOrderTimes(redis: Redis, keys: RedisKeys, ids: readonly string[]): Promise<OrderTimes> {
  const out: OrderTimes = { latencies: [], completed: 0, notTerminal: 0, firstCreated: Infinity, lastProcessed: -Infinity, statuses: {} };
  for (const view of await new OrderStore(redis, keys).views(ids)) {
    const status = view?.status ?? null;
    const createdAt = view?.createdAt || null;
    const processedAt = view?.processedAt ?? null;
    out.statuses[status ?? 'missing'] = (out.statuses[status ?? 'missing'] ?? 0) + 1;
    const created = createdAt ? Date.parse(createdAt) : NaN;
    const processed = processedAt ? Date.parse(processedAt) : NaN;
    if (status === null || status === 'PENDING' || Number.isNaN(created) || Number.isNaN(processed)) {
      out.notTerminal++;
      continue;
    }
    out.completed++;
    out.latencies.push(processed - created);
    if (created < out.firstCreated) out.firstCreated = created;
    if (processed > out.lastProcessed) out.lastProcessed = processed;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Load

interface LoadResult {
  /** orderIds of the 202 answers. */
  accepted: string[];
  /** Status code → count, for everything but 202. */
  refused: Record<string, number>;
  errors: number;
  timeouts: number;
  durationS: number;
  httpLatency: { p50: number; p99: number };
}

let counter = 0;
const RUN_TAG = `b${Date.now().toString(36)}`;
const ORDER_ID_IN_BODY = /"orderId":"([^"]+)"/;

/** The next POST /orders: a fresh idempotency key and one of the order bodies in turn. */
function nextOrder(): { headers: Record<string, string>; body: string } {
  const n = counter++;
  return {
    headers: { 'content-type': 'application/json', 'idempotency-key': `${RUN_TAG}-${n}` },
    body: ORDER_BODIES[n % ORDER_BODIES.length],
  };
}

/** Sorts answers into accepted orderIds (202) and refusals by status. */
function answerCollector(): Pick<LoadResult, 'accepted' | 'refused'> & { onResponse: (status: number, body: string) => void } {
  const accepted: string[] = [];
  const refused: Record<string, number> = {};
  return {
    accepted,
    refused,
    onResponse: (status, body) => {
      const id = status === 202 ? ORDER_ID_IN_BODY.exec(body)?.[1] : undefined;
      if (id !== undefined) accepted.push(id);
      else refused[status] = (refused[status] ?? 0) + 1;
    },
  };
}

/** POST /orders with autocannon at full speed: `seconds` long (or `amount` requests), closed loop. */
function drive(url: string, load: { seconds?: number; amount?: number; connections: number }): Promise<LoadResult> {
  const answers = answerCollector();
  return new Promise<LoadResult>((resolve, reject) => {
    let done = false;
    const instance = autocannon(
      {
        url,
        connections: load.connections,
        // autocannon rejects keys present with an undefined value.
        ...(load.seconds !== undefined && { duration: load.seconds }),
        ...(load.amount !== undefined && { amount: load.amount }),
        timeout: 10,
        requests: [
          {
            method: 'POST',
            path: '/orders',
            setupRequest: (request) => ({ ...request, ...nextOrder() }),
            onResponse: answers.onResponse,
          },
        ],
      },
      (error, result) => {
        done = true;
        active.cannon = undefined;
        if (error) return reject(error instanceof Error ? error : new Error(String(error)));
        resolve({
          accepted: answers.accepted,
          refused: answers.refused,
          errors: result.errors,
          timeouts: result.timeouts,
          durationS: result.duration,
          httpLatency: { p50: result.latency.p50, p99: result.latency.p99 },
        });
      },
    );
    if (!done) active.cannon = instance;
  });
}

/** POST /orders open loop at a steady `rate` (see paced-load.ts for why not autocannon's overallRate). */
async function pace(url: string, load: { seconds: number; connections: number; rate: number }): Promise<LoadResult> {
  const answers = answerCollector();
  const result = await pacedLoad({ url, path: '/orders', ...load, next: nextOrder, onResponse: answers.onResponse });
  return {
    accepted: answers.accepted,
    refused: answers.refused,
    errors: result.errors,
    timeouts: result.timeouts,
    durationS: result.durationS,
    httpLatency: { p50: result.latency.p50, p99: result.latency.p99 },
  };
}

// ---------------------------------------------------------------------------------------------
// Raw baseline

interface Baseline {
  pairsPerSec: number;
  seconds: number;
  subscribers: number;
  delivered: number;
  redisCpuUsPerPair: number;
  nodeCpuUsPerPair: number;
}

/**
 * One Node process (this one), one ioredis command connection, `connections` loops each doing
 * PUBLISH then SET k v NX PX, with `subscribers` connections listening on the channel (the fan-out
 * the replicas cause). Pairs per second against the same Redis, for the services' ratio.
 */
async function runBaseline(server: RedisServer, connections: number, subscribers: number): Promise<Baseline> {
  const pub = server.client();
  pub.on('error', () => undefined);
  active.clients.add(pub);
  const subs: Redis[] = [];
  let delivered = 0;
  try {
    for (let i = 0; i < subscribers; i++) {
      const sub = server.client();
      sub.on('error', () => undefined);
      active.clients.add(sub);
      subs.push(sub);
      await sub.subscribe('bench:baseline');
      sub.on('message', () => delivered++);
    }
    // About the size of an OrderPlaced envelope.
    const payload = JSON.stringify({
      v: 1,
      type: 'OrderPlaced',
      orderId: '0'.repeat(36),
      items: [{ sku: 'BENCH-1', quantity: 1 }],
      x: 'y'.repeat(120),
    });
    let pairs = 0;
    let measuring = false;
    let stop = false;
    const loop = async (c: number): Promise<void> => {
      for (let n = 0; !stop && !interrupted; n++) {
        await pub.publish('bench:baseline', payload);
        await pub.set(`bench:baseline:${c}:${n}`, 'token', 'PX', 5000, 'NX');
        if (measuring) pairs++;
      }
    };
    const loops = Array.from({ length: connections }, (_, c) => loop(c));
    await delay(BASELINE_WARMUP_SECONDS * 1000);
    const redisCpu0 = cpuSeconds(server.pid!);
    const self0 = process.cpuUsage();
    const t0 = performance.now();
    measuring = true;
    await delay(BASELINE_SECONDS * 1000);
    measuring = false;
    const seconds = (performance.now() - t0) / 1000;
    const redisCpu = cpuSeconds(server.pid!) - redisCpu0;
    const self = process.cpuUsage(self0);
    const measured = pairs;
    stop = true;
    await Promise.all(loops);
    return {
      pairsPerSec: measured / seconds,
      seconds,
      subscribers,
      delivered,
      redisCpuUsPerPair: (redisCpu * 1e6) / measured,
      nodeCpuUsPerPair: (self.user + self.system) / measured,
    };
  } finally {
    for (const client of [pub, ...subs]) {
      client.disconnect();
      active.clients.delete(client);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// MONITOR sample: which commands the services send per order, and which run inside scripts

interface RoundTrips {
  orders: number;
  /** Commands sent by the services per order (EVALSHA by script name), without the sweep. */
  perOrder: number;
  /** The same, including background sweeps (due) seen in the window. */
  perOrderWithSweeps: number;
  byCommand: Record<string, number>;
  byProcess: Record<string, number>;
  /** Commands run inside scripts per order (commandstats counts these too, under their own names). */
  insideScriptsPerOrder: number;
  insideScriptsByCommand: Record<string, number>;
}

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

const SCRIPT_BY_SHA = new Map<string, string>(
  Object.values<ScriptSet[string]>({ ...ENGINE_SCRIPTS, ...ORDER_SCRIPTS, ...STOCK_SCRIPTS }).map(({ file }) => [
    sha1(scriptSource(file)),
    basename(file, '.lua'),
  ]),
);

function commandLabel(args: string[]): string {
  const name = (args[0] ?? '').toLowerCase();
  if (name === 'evalsha') return `evalsha ${SCRIPT_BY_SHA.get(args[1] ?? '') ?? 'unknown script'}`;
  if (name === 'eval') return `eval ${SCRIPT_BY_SHA.get(sha1(args[1] ?? '')) ?? 'inline script'}`;
  return name;
}

async function monitorSample(server: RedisServer, harness: SystemHarness, connections: number): Promise<RoundTrips> {
  const control = server.client();
  control.on('error', () => undefined);
  active.clients.add(control);
  try {
    const own = new Set<string>();
    const ownInfo = await control.call('CLIENT', 'INFO');
    own.add(/addr=(\S+)/.exec(String(ownInfo))?.[1] ?? '');
    const names = new Map<string, string>();
    for (const line of String(await control.call('CLIENT', 'LIST')).split('\n')) {
      const addr = /addr=(\S+)/.exec(line)?.[1];
      const name = /name=(\S*)/.exec(line)?.[1];
      if (addr) names.set(addr, name || addr);
    }
    const monitor = await control.monitor();
    active.clients.add(monitor);
    const byCommand: Record<string, number> = {};
    const byProcess: Record<string, number> = {};
    const inside: Record<string, number> = {};
    let sweeps = 0;
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (own.has(source)) return;
      const label = commandLabel(args);
      if (source === 'lua') {
        inside[label] = (inside[label] ?? 0) + 1;
        return;
      }
      if (label === 'monitor') return;
      if (label.endsWith(' due')) sweeps++;
      byCommand[label] = (byCommand[label] ?? 0) + 1;
      const owner = (names.get(source) ?? source).split(':').slice(0, 2).join(':');
      byProcess[owner] = (byProcess[owner] ?? 0) + 1;
    });
    const stored0 = (await new OrderStore(control, harness.keys).allIds()).length;
    await delay(100);
    const load = await drive(harness.orderUrl, { amount: SAMPLE_ORDERS, connections: Math.min(connections, 32) });
    await waitForEmptyBacklog(control, harness.keys, 30_000, {});
    await delay(200);
    monitor.disconnect();
    active.clients.delete(monitor);
    const orders = Math.max(1, (await new OrderStore(control, harness.keys).allIds()).length - stored0);
    if (orders !== load.accepted.length) say(`  (${orders} orders stored, ${load.accepted.length} answered 202)`);
    const sent = Object.values(byCommand).reduce((a, b) => a + b, 0);
    const insideTotal = Object.values(inside).reduce((a, b) => a + b, 0);
    const per = (record: Record<string, number>): Record<string, number> =>
      Object.fromEntries(
        Object.entries(record)
          .sort(([, a], [, b]) => b - a)
          .map(([k, v]) => [k, v / orders]),
      );
    return {
      orders,
      perOrder: (sent - sweeps) / orders,
      perOrderWithSweeps: sent / orders,
      byCommand: per(byCommand),
      byProcess: per(byProcess),
      insideScriptsPerOrder: insideTotal / orders,
      insideScriptsByCommand: per(inside),
    };
  } finally {
    control.disconnect();
    active.clients.delete(control);
  }
}

// ---------------------------------------------------------------------------------------------
// One run

interface ProcessFigures {
  name: string;
  cpuSeconds: number;
  cpuMsPerOrder: number;
  /** Cores busy on average over the window. */
  cores: number;
  peakRssMb: number;
  rssMb: number[];
  /** Median RSS of the second half of post-warm-up samples over that of the first half, minus 1. */
  rssGrowth: number;
}

interface RunResult {
  replicas: number;
  /** Which round of `--repeat` (1-based). */
  round: number;
  baseline: Baseline;
  peak: {
    seconds: number;
    accepted: number;
    acceptedPerSec: number;
    refused: Record<string, number>;
    errors: number;
    timeouts: number;
    httpLatencyMs: { p50: number; p99: number };
    completed: number;
    notTerminal: number;
    completedPerSec: number;
    /** Time from the end of the load until the backlog was empty. */
    drainSeconds: number;
    quiet: boolean;
    latencyMs: Percentiles;
  };
  half: {
    targetRate: number;
    accepted: number;
    acceptedPerSec: number;
    refused: Record<string, number>;
    httpLatencyMs: { p50: number; p99: number };
    completed: number;
    latencyMs: Percentiles;
    quiet: boolean;
  };
  commands: {
    /** Every call commandstats counted during the peak window, per order (script-internal calls included). */
    perOrder: number;
    byCommand: Record<string, number>;
    /** EVALSHA + EVAL per order: calls only clients make (scripts cannot call scripts). */
    scriptCallsPerOrder: number;
    noscript: number;
  };
  roundTrips: RoundTrips;
  processes: ProcessFigures[];
  /** Whole machine over the peak window: cores busy (every process), of which ours. */
  machine: { coresBusy: number; coresOurs: number; cores: number };
  rssSampleSeconds: number[];
  events: Record<string, Record<string, number>>;
  invariants: {
    ok: boolean;
    accepted: number;
    processedTwice: number;
    lost: number;
    unlogged: number;
    failed: number;
    drift: number;
    violations: string[];
    perReplica: Record<string, number>;
  };
  ratios: { throughput: number; redisCpuPerOp: number; nodeCpuPerOp: number };
}

function say(message = ''): void {
  process.stdout.write(`${message}\n`);
}

async function runOnce(replicas: number, roundNo: number, options: Options): Promise<RunResult> {
  const ofRounds = options.repeat > 1 ? ` (round ${roundNo} of ${options.repeat})` : '';
  say(`\n=== ${replicas} inventory replica${replicas === 1 ? '' : 's'}${ofRounds} ===`);
  const server = await RedisServer.start({ appendfsync: 'everysec', detached: true });
  active.servers.add(server);
  const replicaServers: RedisServer[] = [];
  let harness: SystemHarness | undefined;
  let sampler: NodeJS.Timeout | undefined;
  let agentSink: Server | undefined;
  try {
    say(`redis-server ${server.url} (pid ${server.pid}): AOF on, appendfsync everysec (an fsync a second, as Redis ships)`);
    say(`baseline: ${options.connections} concurrent PUBLISH + SET NX PX loops, ${replicas} subscriber(s), ${BASELINE_SECONDS} s…`);
    const baseline = await runBaseline(server, options.connections, replicas);
    say(`  ${fmt(baseline.pairsPerSec)} pairs/s`);
    checkInterrupted();

    const env: Record<string, string | undefined> = { LOG_LEVEL: 'info', DD_ENV: 'bench' };
    if (options.waitReplicas > 0) {
      for (let i = 0; i < options.waitReplicas; i++) {
        const replica = await RedisServer.start({ appendfsync: 'everysec', detached: true, replicaOf: server.port });
        active.servers.add(replica);
        replicaServers.push(replica);
      }
      await waitForReplicasOnline(server, options.waitReplicas);
      env.REDIS_WAIT_REPLICAS = String(options.waitReplicas);
      say(`${options.waitReplicas} replica(s) online; services run with REDIS_WAIT_REPLICAS=${options.waitReplicas}`);
    }
    if (!options.tracing) env.DD_TRACE_ENABLED = 'false';
    else {
      // A stand-in agent that takes and discards the payloads, as a real agent would take them:
      // without one dd-trace's exports fail and it keeps more in memory than in production.
      const agent = await startAgentSink();
      agentSink = agent.server;
      active.sinks.add(agent.server);
      Object.assign(env, { DD_AGENT_HOST: '127.0.0.1', DD_TRACE_AGENT_PORT: String(agent.port) });
    }
    harness = await SystemHarness.start({
      redisServer: server,
      replicas,
      env,
      detached: true,
      readyTimeoutMs: 60_000,
      ...(options.cpuProfDir !== undefined && {
        nodeArgs: (name: string) => [
          '--cpu-prof',
          `--cpu-prof-dir=${options.cpuProfDir}`,
          `--cpu-prof-name=${replicas}r-${name}.cpuprofile`,
        ],
      }),
      // Every line is read and counted; only order.processed is parsed and kept (the exactly-once check).
      keepLogs: { events: [LogEvent.OrderProcessed], fields: ['event', 'orderId', 'replica', 'outcome'] },
    });
    active.harnesses.add(harness);
    checkInterrupted();
    const redis = server.client();
    redis.on('error', () => undefined);
    active.clients.add(redis);
    const { keys } = harness;
    const initialStock: Record<string, number> = {};
    for (const sku of SKUS) {
      await harness.seedStock(sku, SKU_STOCK);
      initialStock[sku] = SKU_STOCK;
    }
    const procs: Proc[] = [
      { name: 'order', pid: harness.order.pid! },
      ...harness.inventory.map((p) => ({ name: p.name, pid: p.pid! })),
      { name: 'redis-server', pid: server.pid! },
      { name: 'bench (autocannon + log reader)', pid: 'self' as const },
    ];
    say(
      `system up: order + ${replicas} replica(s), tracing ${options.tracing ? 'on (as shipped; traces go to a discarding stand-in agent in this process)' : 'off'}, LOG_LEVEL info`,
    );

    const startedAt = performance.now();
    const rssSamples: Array<{ t: number; mb: Record<string, number> }> = [];
    const sample = (): void => {
      rssSamples.push({
        t: (performance.now() - startedAt) / 1000,
        mb: Object.fromEntries(procs.map((p) => [p.name, memory(p.pid).rssMb])),
      });
    };
    sample();
    sampler = setInterval(sample, RSS_SAMPLE_MS);

    const quietTimeoutMs = 60_000 + 4_000 * options.seconds;

    say(`warm-up ${WARMUP_SECONDS} s…`);
    await drive(harness.orderUrl, { seconds: WARMUP_SECONDS, connections: options.connections });
    await waitForEmptyBacklog(redis, keys, quietTimeoutMs, {});
    checkInterrupted();

    // Peak: full speed for --seconds, then until every accepted order is terminal.
    say(`peak: POST /orders at full speed, ${options.connections} connections, ${options.seconds} s…`);
    const own: Record<string, number> = {};
    // Orders stored, not 202s, are the denominator: requests in flight when autocannon stops are
    // accepted and processed, but their answers are never read.
    const stored0 = (await new OrderStore(redis, keys).allIds()).length;
    const stats0 = await commandStats(redis);
    const cpu0 = cpuSnapshot(procs);
    const machine0 = machineCpu();
    const peakStartT = (performance.now() - startedAt) / 1000;
    const t0 = performance.now();
    const peakLoad = await drive(harness.orderUrl, { seconds: options.seconds, connections: options.connections });
    const loadEnd = performance.now();
    const quiet = await waitForEmptyBacklog(redis, keys, quietTimeoutMs, own);
    const t1 = performance.now();
    const cpu1 = cpuSnapshot(procs);
    const machine1 = machineCpu();
    const stats1 = await commandStats(redis);
    const peakOrders = Math.max(1, (await new OrderStore(redis, keys).allIds()).length - stored0);
    const peakTimes = await readOrderTimes(redis, keys, peakLoad.accepted);
    const windowS = (t1 - t0) / 1000;
    const completedPerSec = peakTimes.completed / Math.max(0.001, (peakTimes.lastProcessed - peakTimes.firstCreated) / 1000);
    const acceptedPerSec = peakLoad.accepted.length / peakLoad.durationS;
    const peakLatency = percentiles(peakTimes.latencies);
    say(
      `  accepted ${fmt(acceptedPerSec)}/s, completed ${fmt(completedPerSec)}/s, ` +
        `accept→terminal p50 ${ms(peakLatency.p50)} p99 ${ms(peakLatency.p99)}, drained ${((t1 - loadEnd) / 1000).toFixed(1)} s after the load`,
    );
    if (!quiet) say(`  WARNING: backlog not empty ${quietTimeoutMs / 1000} s after the load`);
    checkInterrupted();

    // Half the measured completion rate, same duration.
    const targetRate = Number.isFinite(completedPerSec) ? Math.max(1, Math.round(completedPerSec / 2)) : 1;
    say(`half peak: ${fmt(targetRate)} orders/s for ${options.seconds} s, spread evenly (open loop)…`);
    const halfLoad = await pace(harness.orderUrl, { seconds: options.seconds, connections: options.connections, rate: targetRate });
    const halfQuiet = await waitForEmptyBacklog(redis, keys, quietTimeoutMs, {});
    const halfTimes = await readOrderTimes(redis, keys, halfLoad.accepted);
    const halfLatency = percentiles(halfTimes.latencies);
    say(
      `  accepted ${fmt(halfLoad.accepted.length / halfLoad.durationS)}/s; accept→terminal p50 ${ms(halfLatency.p50)} p95 ${ms(halfLatency.p95)} p99 ${ms(halfLatency.p99)}; ` +
        `HTTP p99 ${ms(halfLoad.httpLatency.p99)} from the scheduled send time`,
    );
    clearInterval(sampler);
    sampler = undefined;
    sample();
    checkInterrupted();

    say(`MONITOR sample: ${SAMPLE_ORDERS} orders, counting what each process sends…`);
    const roundTrips = await monitorSample(server, harness, options.connections);
    say(
      `  ${roundTrips.perOrder.toFixed(2)} round trips per order (${roundTrips.insideScriptsPerOrder.toFixed(1)} more calls inside scripts)`,
    );

    // Exactly once over every stored order of the run (202 or not), with every order.processed line.
    const allAccepted = await new OrderStore(redis, keys).allIds();
    await harness.waitForQuiet(allAccepted, { timeoutMs: quietTimeoutMs, logSettleMs: 5000 }).catch((error: unknown) => say(String(error)));
    const report: InvariantReport = await checkInvariants({
      redis,
      keys,
      acceptedOrderIds: allAccepted,
      initialStock,
      logs: harness.logs,
    });
    say(formatReport(report).replace(/^/gm, '  '));
    // A service that died mid-run leaves figures of fewer replicas under this run's label.
    if (harness.crashes.length > 0) throw new Error(`a service exited during the run; its figures would mislead${harness.crashReport()}`);

    // Figures.
    const postWarm = rssSamples.filter((s) => s.t >= peakStartT);
    const processes: ProcessFigures[] = procs.map((p) => {
      const cpu = cpu1[p.name] - cpu0[p.name];
      const series = postWarm.map((s) => s.mb[p.name]);
      return {
        name: p.name,
        cpuSeconds: cpu,
        cpuMsPerOrder: (cpu * 1000) / peakOrders,
        cores: cpu / windowS,
        peakRssMb: memory(p.pid).hwmMb,
        rssMb: rssSamples.map((s) => round(s.mb[p.name], 1)),
        rssGrowth: growth(series),
      };
    });
    const delta = statsDelta(stats0, stats1, { ...own, info: 1 });
    const totalCalls = Object.values(delta).reduce((a, b) => a + b.calls, 0);
    const byCommand = Object.fromEntries(
      Object.entries(delta)
        .sort(([, a], [, b]) => b.calls - a.calls)
        .map(([name, { calls }]) => [name, calls / peakOrders]),
    );
    const scriptCalls = (delta.evalsha?.calls ?? 0) + (delta.eval?.calls ?? 0);
    const events: Record<string, Record<string, number>> = {};
    for (const p of harness.processes) events[p.name] = Object.fromEntries([...p.eventCounts].filter(([event]) => event !== ''));
    const serviceCpu = processes.filter((p) => p.name === 'order' || p.name.startsWith('inventory-')).reduce((a, p) => a + p.cpuSeconds, 0);
    const redisCpu = processes.find((p) => p.name === 'redis-server')!.cpuSeconds;

    return {
      replicas,
      round: roundNo,
      baseline,
      peak: {
        seconds: peakLoad.durationS,
        accepted: peakLoad.accepted.length,
        acceptedPerSec,
        refused: peakLoad.refused,
        errors: peakLoad.errors,
        timeouts: peakLoad.timeouts,
        httpLatencyMs: peakLoad.httpLatency,
        completed: peakTimes.completed,
        notTerminal: peakTimes.notTerminal,
        completedPerSec,
        drainSeconds: (t1 - loadEnd) / 1000,
        quiet,
        latencyMs: peakLatency,
      },
      half: {
        targetRate,
        accepted: halfLoad.accepted.length,
        acceptedPerSec: halfLoad.accepted.length / halfLoad.durationS,
        refused: halfLoad.refused,
        httpLatencyMs: halfLoad.httpLatency,
        completed: halfTimes.completed,
        latencyMs: halfLatency,
        quiet: halfQuiet,
      },
      commands: {
        perOrder: totalCalls / peakOrders,
        byCommand,
        scriptCallsPerOrder: scriptCalls / peakOrders,
        noscript: (delta.evalsha?.failed ?? 0) + (delta.eval?.failed ?? 0),
      },
      roundTrips,
      processes,
      machine: {
        coresBusy: (machine1.busy - machine0.busy) / windowS,
        coresOurs: processes.reduce((a, p) => a + p.cores, 0),
        cores: (machine1.total - machine0.total) / windowS,
      },
      rssSampleSeconds: rssSamples.map((s) => round(s.t, 1)),
      events,
      invariants: {
        ok: report.ok,
        accepted: report.accepted,
        processedTwice: report.processedTwice.length,
        lost: report.lost.length,
        unlogged: report.unlogged.length,
        failed: report.failed,
        drift: report.drift.length,
        violations: report.violations,
        perReplica: report.processedPerReplica,
      },
      ratios: {
        throughput: completedPerSec / baseline.pairsPerSec,
        redisCpuPerOp: (redisCpu * 1e6) / peakOrders / baseline.redisCpuUsPerPair,
        nodeCpuPerOp: (serviceCpu * 1e6) / peakOrders / baseline.nodeCpuUsPerPair,
      },
    };
  } finally {
    if (sampler) clearInterval(sampler);
    for (const client of active.clients) client.disconnect();
    active.clients.clear();
    if (harness) {
      await harness.stop(10_000);
      active.harnesses.delete(harness);
    }
    for (const replica of replicaServers) {
      await replica.stop();
      active.servers.delete(replica);
    }
    await server.stop();
    active.servers.delete(server);
    if (agentSink) {
      agentSink.close();
      active.sinks.delete(agentSink);
    }
  }
}

async function waitForReplicasOnline(server: RedisServer, count: number): Promise<void> {
  const client = server.client();
  try {
    const deadline = Date.now() + 30_000;
    while ([...(await client.info('replication')).matchAll(/^slave\d+:.*state=online/gm)].length < count) {
      if (Date.now() > deadline) throw new Error(`${count} replica(s) not online within 30 s`);
      await delay(100);
    }
  } finally {
    client.disconnect();
  }
}

function median(values: number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return NaN;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function growth(series: number[]): number {
  if (series.length < 2) return NaN;
  const half = Math.floor(series.length / 2);
  return median(series.slice(half)) / median(series.slice(0, Math.max(1, half))) - 1;
}

// ---------------------------------------------------------------------------------------------
// Output

function round(n: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';
}

function pct(ratio: number): string {
  return Number.isFinite(ratio) ? `${(ratio * 100).toFixed(1)} %` : 'n/a';
}

function ms(n: number): string {
  return Number.isFinite(n) ? `${fmt(n)} ms` : 'n/a';
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r, i) => {
      const line = r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
      return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}

/** `name 1.00, other 0.25` for the entries of at least 0.005 per order. */
function perOrderList(record: Record<string, number>): string {
  return Object.entries(record)
    .filter(([, n]) => n >= 0.005)
    .map(([name, n]) => `${name} ${n.toFixed(2)}`)
    .join(', ');
}

function printRun(run: RunResult): void {
  say(`\n--- ${run.replicas} replica(s): details ---`);
  const refused = Object.entries(run.peak.refused).map(([s, n]) => `${n}× ${s}`);
  say(
    `peak      ${fmt(run.peak.accepted)} accepted in ${run.peak.seconds.toFixed(1)} s` +
      (refused.length ? `, refused ${refused.join(', ')}` : '') +
      (run.peak.errors ? `, ${run.peak.errors} errors (${run.peak.timeouts} timeouts)` : '') +
      `; HTTP p50 ${ms(run.peak.httpLatencyMs.p50)} p99 ${ms(run.peak.httpLatencyMs.p99)}`,
  );
  say(
    `events    ${Object.entries(run.events)
      .map(
        ([p, e]) =>
          `${p}: ${Object.entries(e)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`,
      )
      .join(' | ')}`,
  );
  say('\nRedis commands per order (peak window, INFO commandstats delta; Redis 7.0 counts calls made inside scripts too):');
  say(`  all calls ${run.commands.perOrder.toFixed(2)}: ${perOrderList(run.commands.byCommand)}`);
  say(
    `  EVALSHA+EVAL (sent by clients only) ${run.commands.scriptCallsPerOrder.toFixed(2)}` +
      (run.commands.noscript ? `, ${run.commands.noscript} NOSCRIPT` : ''),
  );
  const rt = run.roundTrips;
  say(
    `Round trips per order (MONITOR sample of ${rt.orders} orders): ${rt.perOrder.toFixed(2)} ` +
      `(${rt.perOrderWithSweeps.toFixed(2)} with the background sweeps seen in the window)`,
  );
  say(`  sent by the services: ${perOrderList(rt.byCommand)}`);
  say(`  by process: ${perOrderList(rt.byProcess)}`);
  say(`  run inside scripts (not round trips) ${rt.insideScriptsPerOrder.toFixed(2)}: ${perOrderList(rt.insideScriptsByCommand)}`);
  say('\nProcesses (CPU over the peak window: load + drain):');
  const rows = [['process', 'CPU s', 'CPU ms/order', 'cores', 'peak RSS MB', 'RSS growth', `RSS MB every ${RSS_SAMPLE_MS / 1000} s`]];
  for (const p of run.processes) {
    rows.push([
      p.name,
      p.cpuSeconds.toFixed(2),
      p.cpuMsPerOrder.toFixed(3),
      p.cores.toFixed(2),
      fmt(p.peakRssMb),
      Number.isFinite(p.rssGrowth) ? `${(p.rssGrowth * 100).toFixed(0)} %` : 'n/a',
      p.rssMb.map((v) => fmt(v)).join(' '),
    ]);
  }
  say(table(rows));
  say(
    `machine: ${run.machine.coresBusy.toFixed(2)} of ${run.machine.cores.toFixed(1)} cores busy over the window, ` +
      `${run.machine.coresOurs.toFixed(2)} of them this benchmark's processes (the rest: other work on this shared machine)`,
  );
  const b = run.baseline;
  say(
    `\nBaseline: ${fmt(b.pairsPerSec)} PUBLISH+SET NX pairs/s (${b.subscribers} subscribers), Redis ${b.redisCpuUsPerPair.toFixed(1)} µs CPU/pair, ` +
      `Node ${b.nodeCpuUsPerPair.toFixed(1)} µs CPU/pair`,
  );
  say(
    `services / baseline: throughput ${pct(run.ratios.throughput)} (completed orders/s over pairs/s), Redis CPU per op ${run.ratios.redisCpuPerOp.toFixed(1)}×, ` +
      `Node CPU per op ${run.ratios.nodeCpuPerOp.toFixed(1)}× (all services together)`,
  );
}

/** One replica count's runs (one per round), with the medians the verdicts and the chart use. */
interface ReplicaGroup {
  replicas: number;
  runs: RunResult[];
  completedPerSec: number;
  halfP99Ms: number;
}

function groupByReplicas(runs: RunResult[]): ReplicaGroup[] {
  const counts = [...new Set(runs.map((r) => r.replicas))];
  return counts.map((replicas) => {
    const mine = runs.filter((r) => r.replicas === replicas);
    return {
      replicas,
      runs: mine,
      completedPerSec: median(mine.map((r) => r.peak.completedPerSec)),
      halfP99Ms: median(mine.map((r) => r.half.latencyMs.p99)),
    };
  });
}

/** `5,432/s`, or with several rounds `5,432/s (median of 3: 5,268–5,480)`. */
function rateOf(group: ReplicaGroup): string {
  const rates = group.runs.map((r) => r.peak.completedPerSec);
  if (rates.length === 1) return `${fmt(rates[0])}/s`;
  return `${fmt(group.completedPerSec)}/s (median of ${rates.length}: ${fmt(Math.min(...rates))}–${fmt(Math.max(...rates))})`;
}

function printSummary(runs: RunResult[]): void {
  say('\n=== Summary ===');
  const rounds = Math.max(...runs.map((r) => r.round));
  const rows = [
    [
      'replicas',
      ...(rounds > 1 ? ['round'] : []),
      'accepted/s',
      'completed/s',
      'p50',
      'p95',
      'p99',
      '½-peak p50',
      'p95',
      'p99',
      'round trips',
      'cmds/order',
      'CPU ms/order',
      'baseline pairs/s',
      'svc/base',
      'twice',
      'lost',
    ],
  ];
  for (const r of runs) {
    const cpu = r.processes.filter((p) => !p.name.startsWith('bench')).reduce((a, p) => a + p.cpuMsPerOrder, 0);
    rows.push([
      String(r.replicas),
      ...(rounds > 1 ? [String(r.round)] : []),
      fmt(r.peak.acceptedPerSec),
      fmt(r.peak.completedPerSec),
      ms(r.peak.latencyMs.p50),
      ms(r.peak.latencyMs.p95),
      ms(r.peak.latencyMs.p99),
      ms(r.half.latencyMs.p50),
      ms(r.half.latencyMs.p95),
      ms(r.half.latencyMs.p99),
      r.roundTrips.perOrder.toFixed(2),
      r.commands.perOrder.toFixed(1),
      cpu.toFixed(2),
      fmt(r.baseline.pairsPerSec),
      pct(r.ratios.throughput),
      String(r.invariants.processedTwice),
      String(r.invariants.lost),
    ]);
  }
  say(table(rows));
  say('(latency = accept→terminal from createdAt/processedAt in Redis; CPU = order + replicas + redis-server)');
  if (rounds > 1)
    say(
      `completed/s by replicas: ${groupByReplicas(runs)
        .map((g) => `${g.replicas}r ${rateOf(g)}`)
        .join('; ')}`,
    );
}

interface TargetRow {
  target: string;
  measured: string;
  verdict: 'met' | 'not met' | 'n/a';
}

function evaluateTargets(runs: RunResult[], options: Options): TargetRow[] {
  const rows: TargetRow[] = [];
  const groups = groupByReplicas(runs);
  const three = groups.find((g) => g.replicas === 3);
  rows.push({
    target: `≥ ${fmt(TARGETS.completedPerSec3)} completed orders/s with 3 replicas`,
    measured: three ? rateOf(three) : 'no 3-replica run',
    verdict: three ? (three.completedPerSec >= TARGETS.completedPerSec3 ? 'met' : 'not met') : 'n/a',
  });
  rows.push({
    target: 'every order exactly once (no duplicate, none lost, stock conserved)',
    measured: groups
      .map((g) => {
        const sum = (pick: (r: RunResult) => number): number => g.runs.reduce((a, r) => a + pick(r), 0);
        const twice = sum((r) => r.invariants.processedTwice);
        const lost = sum((r) => r.invariants.lost);
        return `${g.replicas}r: ${twice} twice, ${lost} lost${g.runs.every((r) => r.invariants.ok) ? '' : ', VIOLATIONS'}`;
      })
      .join('; '),
    verdict: runs.every((r) => r.invariants.ok) ? 'met' : 'not met',
  });
  rows.push({
    target: `p99 accept→terminal ≤ ${TARGETS.p99HalfMs} ms at half the peak rate`,
    // With several rounds, each count's median p99 is judged (and every round's is listed).
    measured: groups.map((g) => `${g.replicas}r: ${g.runs.map((r) => ms(r.half.latencyMs.p99)).join(', ')}`).join('; '),
    verdict: groups.every((g) => g.halfP99Ms <= TARGETS.p99HalfMs) ? 'met' : 'not met',
  });
  rows.push({
    target: 'Redis round trips per order ≤ N + 2 (happy path, MONITOR sample)',
    measured: groups
      .map((g) => `${g.replicas}r: ${g.runs.map((r) => r.roundTrips.perOrder.toFixed(2)).join(', ')} (≤ ${g.replicas + 2})`)
      .join('; '),
    verdict: runs.every((r) => r.roundTrips.perOrder <= r.replicas + 2 + 0.005) ? 'met' : 'not met',
  });
  const six = groups.find((g) => g.replicas === 6);
  const percent = (v: number): string => `${(v * 100).toFixed(0)} %`;
  // Each round's own ratio too: its 3 and 6 ran minutes apart, under the same neighbours.
  const perRound = (a: ReplicaGroup, b: ReplicaGroup): string =>
    a.runs.length > 1
      ? ` of the medians; per round ${a.runs.map((r) => percent((b.runs.find((x) => x.round === r.round)?.peak.completedPerSec ?? NaN) / r.peak.completedPerSec)).join(', ')}`
      : '';
  rows.push({
    target: `6 replicas ≥ ${TARGETS.sixOverThree * 100} % of 3 replicas' throughput`,
    measured:
      three && six ? `${percent(six.completedPerSec / three.completedPerSec)}${perRound(three, six)}` : 'needs --sweep with 3 and 6',
    verdict: three && six ? (six.completedPerSec >= TARGETS.sixOverThree * three.completedPerSec ? 'met' : 'not met') : 'n/a',
  });
  const services = runs.flatMap((r) => r.processes.filter((p) => p.name === 'order' || p.name.startsWith('inventory-')));
  const worst = services.reduce((a, p) => (Number.isFinite(p.rssGrowth) && p.rssGrowth > a ? p.rssGrowth : a), -Infinity);
  rows.push({
    target: `RSS flat over a 5-minute run (services' RSS growth < ${TARGETS.rssGrowth * 100} %)`,
    measured:
      `worst ${Number.isFinite(worst) ? `${(worst * 100).toFixed(0)} %` : 'n/a'} over ${options.seconds * 2} s of load` +
      (options.seconds < RSS_MIN_SECONDS ? ` (too short to judge: --seconds ${RSS_MIN_SECONDS} or more)` : ''),
    // Ten seconds of load cannot judge a five-minute target: the heap is still growing into its size.
    verdict: !Number.isFinite(worst) || options.seconds < RSS_MIN_SECONDS ? 'n/a' : worst < TARGETS.rssGrowth ? 'met' : 'not met',
  });
  return rows;
}

function printTargets(rows: TargetRow[]): void {
  say('\n=== Targets (issue 6; printed, not asserted) ===');
  say(table([['target', 'measured', 'verdict'], ...rows.map((r) => [r.target, r.measured, r.verdict])]));
}

/**
 * A small hand-written SVG: completed orders/s (left axis) and p99 at half peak (right axis) against
 * replicas; with several rounds the lines join the medians and every round is a small dot.
 */
function chart(allRuns: RunResult[], subtitle: string): string {
  const runs = groupByReplicas(allRuns);
  const W = 720;
  const H = 420;
  const m = { left: 80, right: 80, top: 80, bottom: 56 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const xs = runs.map((r) => r.replicas);
  const xMax = Math.max(...xs, 1) + 1;
  const x = (v: number): number => m.left + (v / xMax) * pw;
  const niceMax = (v: number): number => {
    if (!(v > 0)) return 1;
    const p = 10 ** Math.floor(Math.log10(v));
    return [1, 2, 2.5, 5, 10].map((k) => k * p).find((c) => c >= v) ?? 10 * p;
  };
  const tput = runs.map((g) => g.completedPerSec);
  const p99 = runs.map((g) => g.halfP99Ms);
  const everyTput = allRuns.map((r) => r.peak.completedPerSec);
  const everyP99 = allRuns.map((r) => r.half.latencyMs.p99);
  const yLMax = niceMax(Math.max(...everyTput.filter(Number.isFinite), TARGETS.completedPerSec3) * 1.1);
  const yRMax = niceMax(Math.max(...everyP99.filter(Number.isFinite), TARGETS.p99HalfMs) * 1.1);
  const yL = (v: number): number => m.top + ph - (v / yLMax) * ph;
  const yR = (v: number): number => m.top + ph - (v / yRMax) * ph;
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">End-to-end throughput and p99 latency against inventory replicas</text>`,
  );
  out.push(`<text x="${W / 2}" y="40" text-anchor="middle" fill="#555">${esc(subtitle)}</text>`);
  for (let i = 0; i <= 5; i++) {
    const vl = (yLMax * i) / 5;
    const vr = (yRMax * i) / 5;
    const y = yL(vl);
    out.push(`<line x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 8}" y="${y + 4}" text-anchor="end" fill="#1f77b4">${fmt(vl)}</text>`);
    out.push(`<text x="${m.left + pw + 8}" y="${y + 4}" fill="#d62728">${fmt(vr, vr < 10 && vr % 1 !== 0 ? 1 : 0)}</text>`);
  }
  for (let v = 0; v <= xMax; v++) {
    if (xMax > 12 && v % 2 === 1) continue;
    out.push(`<line x1="${x(v)}" y1="${m.top + ph}" x2="${x(v)}" y2="${m.top + ph + 5}" stroke="#333"/>`);
    out.push(`<text x="${x(v)}" y="${m.top + ph + 18}" text-anchor="middle">${v}</text>`);
  }
  out.push(`<line x1="${m.left}" y1="${m.top + ph}" x2="${m.left + pw}" y2="${m.top + ph}" stroke="#333"/>`);
  out.push(`<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + ph}" stroke="#1f77b4"/>`);
  out.push(`<line x1="${m.left + pw}" y1="${m.top}" x2="${m.left + pw}" y2="${m.top + ph}" stroke="#d62728"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="${H - 22}" text-anchor="middle">inventory replicas</text>`);
  out.push(
    `<text transform="translate(20 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" fill="#1f77b4">completed orders/s (full speed)</text>`,
  );
  out.push(
    `<text transform="translate(${W - 18} ${m.top + ph / 2}) rotate(90)" text-anchor="middle" fill="#d62728">p99 accept→terminal at half peak (ms)</text>`,
  );
  // Targets as dotted lines.
  out.push(
    `<line x1="${m.left}" y1="${yL(TARGETS.completedPerSec3)}" x2="${m.left + pw}" y2="${yL(TARGETS.completedPerSec3)}" stroke="#1f77b4" stroke-dasharray="2 4"/>`,
  );
  out.push(
    `<text x="${m.left + 6}" y="${yL(TARGETS.completedPerSec3) - 5}" fill="#1f77b4" font-size="11">target ≥ ${fmt(TARGETS.completedPerSec3)}/s (3 replicas)</text>`,
  );
  out.push(
    `<line x1="${m.left}" y1="${yR(TARGETS.p99HalfMs)}" x2="${m.left + pw}" y2="${yR(TARGETS.p99HalfMs)}" stroke="#d62728" stroke-dasharray="2 4"/>`,
  );
  out.push(
    `<text x="${m.left + pw - 6}" y="${yR(TARGETS.p99HalfMs) - 5}" text-anchor="end" fill="#d62728" font-size="11">target p99 ≤ ${TARGETS.p99HalfMs} ms</text>`,
  );
  const series = (
    values: number[],
    y: (v: number) => number,
    color: string,
    dash: string,
    label: (v: number) => string,
    labelDy: number,
  ): void => {
    const points = runs.map((r, i) => [x(r.replicas), y(values[i])] as const).filter(([, py]) => Number.isFinite(py));
    if (points.length > 1)
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2.5"${dash} points="${points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' ')}"/>`,
      );
    runs.forEach((r, i) => {
      if (!Number.isFinite(values[i])) return;
      out.push(`<circle cx="${x(r.replicas).toFixed(1)}" cy="${y(values[i]).toFixed(1)}" r="4.5" fill="${color}"/>`);
      out.push(
        `<text x="${(x(r.replicas) + 8).toFixed(1)}" y="${(y(values[i]) + labelDy).toFixed(1)}" fill="${color}" font-size="11">${label(values[i])}</text>`,
      );
    });
  };
  if (allRuns.length > runs.length) {
    for (const r of allRuns) {
      out.push(
        `<circle cx="${x(r.replicas).toFixed(1)}" cy="${yL(r.peak.completedPerSec).toFixed(1)}" r="2" fill="#1f77b4" opacity="0.5"/>`,
      );
      if (Number.isFinite(r.half.latencyMs.p99))
        out.push(
          `<circle cx="${x(r.replicas).toFixed(1)}" cy="${yR(r.half.latencyMs.p99).toFixed(1)}" r="2" fill="#d62728" opacity="0.5"/>`,
        );
    }
  }
  // Throughput labels below their points, latency labels above, so coinciding points stay readable.
  series(tput, yL, '#1f77b4', '', (v) => `${fmt(v)}/s`, 18);
  series(p99, yR, '#d62728', ' stroke-dasharray="7 4"', (v) => `${fmt(v)} ms`, -8);
  // Legend: one row between the title and the plot.
  const ly = 60;
  const lx = W / 2 - 265;
  out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 26}" y2="${ly}" stroke="#1f77b4" stroke-width="2.5"/>`);
  out.push(`<text x="${lx + 32}" y="${ly + 4}">completed orders/s at full speed (left axis)</text>`);
  out.push(`<line x1="${lx + 310}" y1="${ly}" x2="${lx + 336}" y2="${ly}" stroke="#d62728" stroke-width="2.5" stroke-dasharray="7 4"/>`);
  out.push(`<text x="${lx + 342}" y="${ly + 4}">p99 at half peak (right axis)</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// Cleanup on exit, Ctrl-C and errors

const active = {
  cannon: undefined as autocannon.Instance | undefined,
  clients: new Set<Redis>(),
  harnesses: new Set<SystemHarness>(),
  servers: new Set<RedisServer>(),
  sinks: new Set<Server>(),
};
let interrupted = false;

class Interrupted extends Error {}

function checkInterrupted(): void {
  if (interrupted) throw new Interrupted('interrupted');
}

function stopLoad(): void {
  if (typeof active.cannon?.stop === 'function') active.cannon.stop();
  active.cannon = undefined;
}

async function cleanup(): Promise<void> {
  stopLoad();
  for (const client of active.clients) client.disconnect();
  active.clients.clear();
  await Promise.all([...active.harnesses].map((h) => h.stop(5000).catch(() => undefined)));
  active.harnesses.clear();
  await Promise.all([...active.servers].map((s) => s.stop().catch(() => undefined)));
  active.servers.clear();
  for (const sink of active.sinks) sink.close();
  active.sinks.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  if (interrupted) {
    // Second signal: no more waiting. Services are SIGKILLed by the harness's exit hook.
    for (const server of active.servers) if (server.pid) process.kill(server.pid, 'SIGKILL');
    process.exit(130);
  }
  interrupted = true;
  say(`\n${signal}: stopping the load, the services and Redis…`);
  stopLoad();
  void cleanup().finally(() => process.exit(130));
}

// Last resort (uncaught error, process.exit): no redis-server outlives the bench.
process.on('exit', () => {
  for (const server of active.servers) {
    try {
      if (server.pid) process.kill(server.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const root = repoRoot();
  for (const service of ['order', 'inventory']) {
    if (!existsSync(join(root, service, 'dist', 'main.js'))) throw new Error(`${service}/dist/main.js missing: npm run build first`);
  }
  const redisVersion = /v=(\S+)/.exec(
    execFileSync(process.env.REDIS_SERVER_BIN ?? 'redis-server', ['--version'], { encoding: 'utf8' }),
  )?.[1];
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim(),
    memoryGb: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    redis: redisVersion,
    clockTicksPerSecond: CLK_TCK,
  };
  say(
    `End-to-end benchmark: replicas ${options.replicas.join(', ')}; ${options.seconds} s per phase; ${options.connections} connections; ` +
      `tracing ${options.tracing ? 'on' : 'off'}; REDIS_WAIT_REPLICAS=${options.waitReplicas}; ${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.node}, Redis ${machine.redis}`,
  );
  say('Orders: 2 items over 8 ample SKUs, a fresh Idempotency-Key each. Shared noisy machine: compare ratios within one run.');

  const runs: RunResult[] = [];
  for (let roundNo = 1; roundNo <= options.repeat; roundNo++) {
    for (const replicas of options.replicas) {
      const run = await runOnce(replicas, roundNo, options);
      runs.push(run);
      printRun(run);
    }
  }
  printSummary(runs);
  const targets = evaluateTargets(runs, options);
  printTargets(targets);

  mkdirSync(options.outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const base = options.publish ? 'e2e' : `e2e-${stamp}`;
  const jsonPath = join(options.outDir, `${base}.json`);
  const svgPath = join(options.outDir, `${base}.svg`);
  const result = {
    generatedAt: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine,
    options: { ...options, outDir: undefined },
    setup: {
      redis: 'private redis-server, AOF on, appendfsync everysec',
      order: '2 items over 8 ample SKUs, fresh Idempotency-Key per request',
      phases: `baseline ${BASELINE_SECONDS} s; warm-up ${WARMUP_SECONDS} s; peak ${options.seconds} s at full speed; half peak ${options.seconds} s; MONITOR sample of ${SAMPLE_ORDERS} orders`,
      latency: 'accept→terminal = processedAt (replica, at commit) − createdAt (order service, at accept), read from Redis',
      completedPerSec: 'terminal orders / (last processedAt − first createdAt) of the peak phase',
    },
    targets,
    runs,
  };
  writeFileSync(jsonPath, `${JSON.stringify(result, null, 2)}\n`);
  const subtitle = `${machine.cpus} CPUs, Node ${machine.node}, Redis ${machine.redis}, ${options.seconds} s per phase, ${options.connections} connections, tracing ${options.tracing ? 'on' : 'off'}`;
  writeFileSync(svgPath, chart(runs, subtitle));
  say(`\nResults: ${jsonPath}\nChart:   ${svgPath}`);
}

main().then(
  () => {
    process.exitCode = 0;
  },
  async (error: unknown) => {
    if (error instanceof UsageError) process.stderr.write(`${error.message}\n`);
    else if (!interrupted && !(error instanceof Interrupted))
      process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    await cleanup();
    process.exit(interrupted ? 130 : 1);
  },
);
