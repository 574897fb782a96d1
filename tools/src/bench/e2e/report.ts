import { Options, RSS_MIN_SECONDS, RSS_SAMPLE_MS, TARGETS } from './options';
import { RunResult, median, say } from './run';

// Output

export function round(n: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';
}

export function pct(ratio: number): string {
  return Number.isFinite(ratio) ? `${(ratio * 100).toFixed(1)} %` : 'n/a';
}

export function ms(n: number): string {
  return Number.isFinite(n) ? `${fmt(n)} ms` : 'n/a';
}

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r, i) => {
      const line = r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
      return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}

/** `name 1.00, other 0.25` for the entries of at least 0.005 per order. */
export function perOrderList(record: Record<string, number>): string {
  return Object.entries(record)
    .filter(([, n]) => n >= 0.005)
    .map(([name, n]) => `${name} ${n.toFixed(2)}`)
    .join(', ');
}

export function printRun(run: RunResult): void {
  say(`\n--- ${run.replicas} replica(s), CLAIM_MODE=${run.claimMode}: details ---`);
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
  const rows = [
    [
      'process',
      'CPU s',
      'CPU ms/order',
      'less idle',
      'cores',
      'idle cores',
      'peak RSS MB',
      'RSS growth',
      `RSS MB every ${RSS_SAMPLE_MS / 1000} s`,
    ],
  ];
  for (const p of run.processes) {
    rows.push([
      p.name,
      p.cpuSeconds.toFixed(2),
      p.cpuMsPerOrder.toFixed(3),
      p.cpuMsPerOrderNet.toFixed(3),
      p.cores.toFixed(2),
      p.idleCores.toFixed(3),
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

/** One replica count's runs in one claim mode (one per round), with the medians the verdicts and the chart use. */
export interface ReplicaGroup {
  replicas: number;
  claimMode: RunResult['claimMode'];
  runs: RunResult[];
  completedPerSec: number;
  halfP99Ms: number;
  /** Median Redis CPU per order (ms) over the peak window. */
  redisCpuMsPerOrder: number;
  /** Median Redis CPU per order (ms) over the second phase (half peak, or `--rate`). */
  secondPhaseRedisCpuMsPerOrder: number;
}

/** Redis's CPU per order (ms) in one run, less its idle CPU: what each order costs it. */
export function redisCpuMsPerOrder(run: RunResult): number {
  return run.processes.find((p) => p.name === 'redis-server')?.cpuMsPerOrderNet ?? NaN;
}

/** The runs grouped by replica count, within `claimMode` (every run when omitted: one mode only). */
export function groupByReplicas(runs: RunResult[], claimMode?: RunResult['claimMode']): ReplicaGroup[] {
  const inMode = claimMode === undefined ? runs : runs.filter((r) => r.claimMode === claimMode);
  const counts = [...new Set(inMode.map((r) => r.replicas))];
  return counts.map((replicas) => {
    const mine = inMode.filter((r) => r.replicas === replicas);
    return {
      replicas,
      claimMode: mine[0].claimMode,
      runs: mine,
      completedPerSec: median(mine.map((r) => r.peak.completedPerSec)),
      halfP99Ms: median(mine.map((r) => r.half.latencyMs.p99)),
      redisCpuMsPerOrder: median(mine.map(redisCpuMsPerOrder)),
      secondPhaseRedisCpuMsPerOrder: median(mine.map((r) => r.half.redisCpuMsPerOrderNet)),
    };
  });
}

/** The claim modes the runs cover, in the order they ran. */
export function claimModesOf(runs: RunResult[]): Array<RunResult['claimMode']> {
  return [...new Set(runs.map((r) => r.claimMode))];
}

/** `5,432/s`, or with several rounds `5,432/s (median of 3: 5,268–5,480)`. */
export function rateOf(group: ReplicaGroup): string {
  const rates = group.runs.map((r) => r.peak.completedPerSec);
  if (rates.length === 1) return `${fmt(rates[0])}/s`;
  return `${fmt(group.completedPerSec)}/s (median of ${rates.length}: ${fmt(Math.min(...rates))}–${fmt(Math.max(...rates))})`;
}

/** What the second phase ran at: one rate for every run (`--rate`, or a single run), or each run's half peak. */
function secondPhaseRate(runs: RunResult[]): string {
  const rates = new Set(runs.map((r) => r.half.targetRate));
  return rates.size === 1 ? `${fmt(runs[0].half.targetRate)} orders/s` : "half each run's peak";
}

export function printSummary(runs: RunResult[]): void {
  say('\n=== Summary ===');
  const rounds = Math.max(...runs.map((r) => r.round));
  const rows = [
    [
      'replicas',
      'mode',
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
      'Redis µs/order (less idle)',
      '2nd phase',
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
      r.claimMode,
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
      fmt(redisCpuMsPerOrder(r) * 1000),
      fmt(r.half.redisCpuMsPerOrderNet * 1000),
      cpu.toFixed(2),
      fmt(r.baseline.pairsPerSec),
      pct(r.ratios.throughput),
      String(r.invariants.processedTwice),
      String(r.invariants.lost),
    ]);
  }
  say(table(rows));
  say(
    '(latency = accept→terminal from createdAt/processedAt in Redis; CPU = order + replicas + redis-server; ' +
      `2nd phase = Redis µs/order over the second phase, at ${secondPhaseRate(runs)})`,
  );
  if (rounds > 1)
    for (const mode of claimModesOf(runs))
      say(
        `completed/s by replicas (${mode}): ${groupByReplicas(runs, mode)
          .map((g) => `${g.replicas}r ${rateOf(g)}`)
          .join('; ')}`,
      );
}

export interface TargetRow {
  target: string;
  measured: string;
  verdict: 'met' | 'not met' | 'n/a';
}

export function evaluateTargets(runs: RunResult[], options: Options): TargetRow[] {
  const rows: TargetRow[] = [];
  const modes = claimModesOf(runs);
  const percent = (v: number): string => `${(v * 100).toFixed(0)} %`;
  for (const mode of modes) {
    // With both modes, each target is judged per mode.
    const inMode = runs.filter((r) => r.claimMode === mode);
    const of = modes.length > 1 ? ` [${mode}]` : '';
    const groups = groupByReplicas(inMode);
    const three = groups.find((g) => g.replicas === 3);
    const six = groups.find((g) => g.replicas === 6);
    const twelve = groups.find((g) => g.replicas === 12);
    rows.push({
      target: `≥ ${fmt(TARGETS.completedPerSec3)} completed orders/s with 3 replicas${of}`,
      measured: three ? rateOf(three) : 'no 3-replica run',
      verdict: three ? (three.completedPerSec >= TARGETS.completedPerSec3 ? 'met' : 'not met') : 'n/a',
    });
    rows.push({
      target: `every order exactly once (no duplicate, none lost, stock conserved)${of}`,
      measured: groups
        .map((g) => {
          const sum = (pick: (r: RunResult) => number): number => g.runs.reduce((a, r) => a + pick(r), 0);
          const twice = sum((r) => r.invariants.processedTwice);
          const lost = sum((r) => r.invariants.lost);
          return `${g.replicas}r: ${twice} twice, ${lost} lost${g.runs.every((r) => r.invariants.ok) ? '' : ', VIOLATIONS'}`;
        })
        .join('; '),
      verdict: inMode.every((r) => r.invariants.ok) ? 'met' : 'not met',
    });
    rows.push({
      target: `p99 accept→terminal ≤ ${TARGETS.p99HalfMs} ms at ${options.rate === undefined ? 'half the peak rate' : `${fmt(options.rate)} orders/s`}${of}`,
      // With several rounds, each count's median p99 is judged (and every round's is listed).
      measured: groups.map((g) => `${g.replicas}r: ${g.runs.map((r) => ms(r.half.latencyMs.p99)).join(', ')}`).join('; '),
      verdict: groups.every((g) => g.halfP99Ms <= TARGETS.p99HalfMs) ? 'met' : 'not met',
    });
    // Racing, every replica claims every order; with affinity only the owner does.
    const bound = (replicas: number): number => (mode === 'affinity' ? TARGETS.affinityRoundTrips : replicas + 2);
    rows.push({
      target: `Redis round trips per order ≤ ${mode === 'affinity' ? TARGETS.affinityRoundTrips : 'N + 2'} (happy path, MONITOR sample)${of}`,
      measured: groups
        .map((g) => `${g.replicas}r: ${g.runs.map((r) => r.roundTrips.perOrder.toFixed(2)).join(', ')} (≤ ${bound(g.replicas)})`)
        .join('; '),
      verdict: inMode.every((r) => r.roundTrips.perOrder <= bound(r.replicas) + 0.005) ? 'met' : 'not met',
    });
    // Each round's own ratio too: its 3 and 6 ran minutes apart, under the same neighbours.
    const perRound = (a: ReplicaGroup, b: ReplicaGroup): string =>
      a.runs.length > 1
        ? ` of the medians; per round ${a.runs.map((r) => percent((b.runs.find((x) => x.round === r.round)?.peak.completedPerSec ?? NaN) / r.peak.completedPerSec)).join(', ')}`
        : '';
    const sixOverThree = mode === 'affinity' ? TARGETS.affinitySixOverThree : TARGETS.sixOverThree;
    rows.push({
      target: `6 replicas ≥ ${sixOverThree * 100} % of 3 replicas' throughput${of}`,
      measured:
        three && six ? `${percent(six.completedPerSec / three.completedPerSec)}${perRound(three, six)}` : 'needs --sweep with 3 and 6',
      verdict: three && six ? (six.completedPerSec >= sixOverThree * three.completedPerSec ? 'met' : 'not met') : 'n/a',
    });
    if (mode === 'affinity') {
      // At one rate (--rate) the two runs differ only in the replica count; at their own peaks the
      // 12-replica run also has fewer commands per Redis event-loop turn to share each turn's cost.
      const atRate = options.rate !== undefined;
      const cost = (g: ReplicaGroup): number => (atRate ? g.secondPhaseRedisCpuMsPerOrder : g.redisCpuMsPerOrder);
      rows.push({
        target: `Redis CPU per order at 12 replicas ≤ ${TARGETS.affinityRedisCpu12Over3}× that at 3, ${atRate ? `both at ${fmt(options.rate!)} orders/s` : 'each at its peak (--rate R: at one rate)'}${of}`,
        measured:
          three && twelve
            ? `${fmt(cost(twelve) * 1000)} µs vs ${fmt(cost(three) * 1000)} µs: ${(cost(twelve) / cost(three)).toFixed(2)}×`
            : 'needs --sweep with 3 and 12',
        verdict: three && twelve ? (cost(twelve) <= TARGETS.affinityRedisCpu12Over3 * cost(three) ? 'met' : 'not met') : 'n/a',
      });
    }
  }
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

export function printTargets(rows: TargetRow[]): void {
  say('\n=== Targets (printed, not asserted) ===');
  say(table([['target', 'measured', 'verdict'], ...rows.map((r) => [r.target, r.measured, r.verdict])]));
}
