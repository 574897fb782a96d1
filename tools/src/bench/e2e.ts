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
 *   npm run bench -- [--replicas 3 | --sweep 1,3,6] [--claim-mode race,affinity] [--repeat 1] [--seconds 15] [--connections 64]
 *                    [--tracing on|off] [--wait-replicas 0] [--publish | --out DIR] [--cpu-prof DIR]
 *
 * `--claim-mode race,affinity` runs every replica count once per CLAIM_MODE and prints, per mode, Redis
 * commands, round trips and Redis CPU per order: with affinity they should stay flat as replicas are added.
 *
 * `--wait-replicas N` gives the Redis N replicas and runs the services with REDIS_WAIT_REPLICAS=N:
 * what confirming every accept, commit and stock write on a replica costs.
 *
 * Everything runs on 127.0.0.1 against Redis servers this process starts; the one on 6379 is never
 * touched. Results: JSON + SVG chart in .cache/bench/ (docs/bench/ with --publish).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@eo/local';
import { CLK_TCK } from './proc';
import { UsageError } from '../cli/command-line';
import { BASELINE_SECONDS, SAMPLE_ORDERS, USAGE, WARMUP_SECONDS, parseOptions } from './e2e/options';
import { RunResult, runOnce, say } from './e2e/run';
import { evaluateTargets, printRun, printSummary, printTargets, round } from './e2e/report';
import { chart } from './e2e/chart';
import { Interrupted, cleanup, interrupted, onSignal } from './e2e/lifecycle';

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
    `End-to-end benchmark: replicas ${options.replicas.join(', ')}; CLAIM_MODE ${options.claimModes.join(', ')}; ${options.seconds} s per phase; ${options.connections} connections; ` +
      `tracing ${options.tracing ? 'on' : 'off'}; REDIS_WAIT_REPLICAS=${options.waitReplicas}; ${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.node}, Redis ${machine.redis}`,
  );
  say('Orders: 2 items over 8 ample SKUs, a fresh Idempotency-Key each. Shared noisy machine: compare ratios within one run.');

  const runs: RunResult[] = [];
  for (let roundNo = 1; roundNo <= options.repeat; roundNo++) {
    for (const claimMode of options.claimModes) {
      for (const replicas of options.replicas) {
        const run = await runOnce(replicas, claimMode, roundNo, options);
        runs.push(run);
        printRun(run);
      }
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
      phases: `baseline ${BASELINE_SECONDS} s; warm-up ${WARMUP_SECONDS} s; peak ${options.seconds} s at full speed; ${options.rate === undefined ? 'half peak' : `${options.rate} orders/s`} ${options.seconds} s; MONITOR sample of ${SAMPLE_ORDERS} orders`,
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
    if (error instanceof UsageError) process.stderr.write(`${error.message}\n${USAGE}\n`);
    else if (!interrupted && !(error instanceof Interrupted))
      process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    await cleanup();
    process.exit(interrupted ? 130 : 1);
  },
);
