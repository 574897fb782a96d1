import type { Server } from 'node:http';
import { LogEvent, OrderStore } from '@eo/contract';
import type { ClaimMode } from '@eo/exactly-once';
import { checkInvariants, delay, formatReport, RedisServer, SystemHarness, type InvariantReport } from '@eo/local';
import { startAgentSink } from '../agent-sink';
import { percentiles, type Percentiles } from '../percentiles';
import { machineCpu, memory } from '../proc';
import { BASELINE_SECONDS, IDLE_SECONDS, Options, RSS_SAMPLE_MS, SAMPLE_ORDERS, SKUS, SKU_STOCK, WARMUP_SECONDS } from './options';
import { Proc, commandStats, cpuSnapshot, readOrderTimes, statsDelta, waitForEmptyBacklog } from './readings';
import { drive, pace } from './load';
import { Baseline, runBaseline } from './baseline';
import { RoundTrips, monitorSample } from './monitor';
import { fmt, ms, round } from './report';
import { active, checkInterrupted } from './lifecycle';

// One run

export interface ProcessFigures {
  name: string;
  cpuSeconds: number;
  cpuMsPerOrder: number;
  /** Cores busy with no load at all (timers, heartbeats, sweeps, flushes), measured before the peak. */
  idleCores: number;
  /**
   * CPU per order less what the process burns idle over the same window: what an order adds. At
   * low throughput the idle part would otherwise dominate, and compare runs of different rates badly.
   */
  cpuMsPerOrderNet: number;
  /** Cores busy on average over the window. */
  cores: number;
  peakRssMb: number;
  rssMb: number[];
  /** Median RSS of the second half of post-warm-up samples over that of the first half, minus 1. */
  rssGrowth: number;
}

export interface RunResult {
  replicas: number;
  claimMode: ClaimMode;
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
    /** Orders stored during the phase. */
    orders: number;
    /** Redis's CPU per order over the phase (load and drain), less its idle CPU: see {@link ProcessFigures.cpuMsPerOrderNet}. */
    redisCpuMsPerOrderNet: number;
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

export function say(message = ''): void {
  process.stdout.write(`${message}\n`);
}

export async function runOnce(replicas: number, claimMode: ClaimMode, roundNo: number, options: Options): Promise<RunResult> {
  const ofRounds = options.repeat > 1 ? ` (round ${roundNo} of ${options.repeat})` : '';
  say(`\n=== ${replicas} inventory replica${replicas === 1 ? '' : 's'}, CLAIM_MODE=${claimMode}${ofRounds} ===`);
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

    const env: Record<string, string | undefined> = { LOG_LEVEL: 'info', DD_ENV: 'bench', CLAIM_MODE: claimMode };
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

    // Idle: the system up with no load, to tell what an order costs from what merely running costs.
    const idle0 = cpuSnapshot(procs);
    const idleStart = performance.now();
    await delay(IDLE_SECONDS * 1000);
    const idle1 = cpuSnapshot(procs);
    const idleS = (performance.now() - idleStart) / 1000;
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

    // Half the measured completion rate (or --rate), same duration.
    const targetRate = options.rate ?? (Number.isFinite(completedPerSec) ? Math.max(1, Math.round(completedPerSec / 2)) : 1);
    say(
      `${options.rate === undefined ? 'half peak' : 'fixed rate'}: ${fmt(targetRate)} orders/s for ${options.seconds} s, spread evenly (open loop)…`,
    );
    const halfStored0 = (await new OrderStore(redis, keys).allIds()).length;
    const halfCpu0 = cpuSnapshot(procs);
    const h0 = performance.now();
    const halfLoad = await pace(harness.orderUrl, { seconds: options.seconds, connections: options.connections, rate: targetRate });
    const halfQuiet = await waitForEmptyBacklog(redis, keys, quietTimeoutMs, {});
    const halfCpu1 = cpuSnapshot(procs);
    const halfWindowS = (performance.now() - h0) / 1000;
    const halfOrders = Math.max(1, (await new OrderStore(redis, keys).allIds()).length - halfStored0);
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
      const idleCores = (idle1[p.name] - idle0[p.name]) / idleS;
      return {
        name: p.name,
        cpuSeconds: cpu,
        cpuMsPerOrder: (cpu * 1000) / peakOrders,
        idleCores,
        cpuMsPerOrderNet: netCpuMsPerOrder(cpu, idleCores, windowS, peakOrders),
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
    const redisProcess = processes.find((p) => p.name === 'redis-server')!;
    const redisCpu = redisProcess.cpuSeconds;

    return {
      replicas,
      claimMode,
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
        orders: halfOrders,
        redisCpuMsPerOrderNet: netCpuMsPerOrder(
          halfCpu1['redis-server'] - halfCpu0['redis-server'],
          redisProcess.idleCores,
          halfWindowS,
          halfOrders,
        ),
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

export async function waitForReplicasOnline(server: RedisServer, count: number): Promise<void> {
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

/** CPU ms per order over a window, less what the process burns idle over as long (see {@link ProcessFigures.cpuMsPerOrderNet}). */
function netCpuMsPerOrder(cpuSeconds: number, idleCores: number, windowS: number, orders: number): number {
  return (Math.max(0, cpuSeconds - idleCores * windowS) * 1000) / orders;
}

export function median(values: number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return NaN;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function growth(series: number[]): number {
  if (series.length < 2) return NaN;
  const half = Math.floor(series.length / 2);
  return median(series.slice(half)) / median(series.slice(0, Math.max(1, half))) - 1;
}
