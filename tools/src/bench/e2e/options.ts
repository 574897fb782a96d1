import { join, resolve } from 'node:path';
import { type OrderItem } from '@eo/contract';
import { repoRoot } from '@eo/local';
import type { ClaimMode } from '@eo/exactly-once';
import { choice, choices, flag, int, ints, parseCommandLine, text } from '../../cli/command-line';

// Options

export interface Options {
  replicas: number[];
  /** CLAIM_MODE of the replicas; each replica count runs once per mode. */
  claimModes: ClaimMode[];
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
  /**
   * Orders/s of the second phase in every run; half each run's own peak when omitted. One rate for
   * every replica count compares what an order costs at one load: Redis's CPU per order falls as
   * its throughput rises (more commands per event-loop turn and per socket write), so runs compared
   * at their own peaks mix the replica count's effect with the load's.
   */
  rate?: number;
}

export const USAGE = `usage: npm run bench -- [--replicas N | --sweep 1,3,6] [--claim-mode race,affinity] [--repeat 1] [--seconds 15] [--connections 64] [--tracing on|off] [--wait-replicas 0] [--rate R] [--publish | --out DIR] [--cpu-prof DIR]`;

/** The command line (`--help` prints {@link USAGE} and exits). */
export function parseOptions(argv: string[]): Options {
  const { values, help } = parseCommandLine(argv, {
    replicas: int(1, 32),
    sweep: ints(1, 32, [3]),
    'claim-mode': choices(['race', 'affinity'] as const, ['race']),
    repeat: int(1, 10, 1),
    seconds: int(1, 3600, 15),
    connections: int(1, 1000, 64),
    tracing: choice(['on', 'off'], 'on'),
    'wait-replicas': int(0, 4, 0),
    out: text(),
    publish: flag(),
    'cpu-prof': text(),
    rate: int(1, 1_000_000),
  });
  if (help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const cpuProf = values['cpu-prof'];
  return {
    replicas: values.replicas === undefined ? values.sweep : [values.replicas],
    claimModes: [...new Set(values['claim-mode'])],
    repeat: values.repeat,
    seconds: values.seconds,
    connections: values.connections,
    tracing: values.tracing === 'on',
    waitReplicas: values['wait-replicas'],
    outDir: values.out ?? join(repoRoot(), values.publish ? 'docs/bench' : '.cache/bench'),
    publish: values.publish,
    ...(cpuProf === undefined ? {} : { cpuProfDir: resolve(cpuProf) }),
    ...(values.rate === undefined ? {} : { rate: values.rate }),
  };
}

// Fixed parameters

export const WARMUP_SECONDS = 2;
/** The quiet window before the peak in which each process's idle CPU is measured. */
export const IDLE_SECONDS = 3;
export const BASELINE_SECONDS = 4;
export const BASELINE_WARMUP_SECONDS = 1;
export const SAMPLE_ORDERS = 500;
export const RSS_SAMPLE_MS = 2000;
/** Shorter phases print the RSS growth but no verdict on the flat-RSS target. */
export const RSS_MIN_SECONDS = 60;
export const SKUS = Array.from({ length: 8 }, (_, i) => `BENCH-${i + 1}`);
export const SKU_STOCK = 1_000_000_000;
/** Two items per order over 8 ample SKUs: a realistic commit (2 stock hashes), never short of stock. */
export const ORDER_BODIES = SKUS.map((sku, i) =>
  JSON.stringify({
    items: [
      { sku, quantity: 1 },
      { sku: SKUS[(i + 3) % SKUS.length], quantity: 2 },
    ] satisfies OrderItem[],
  }),
);

export const TARGETS = {
  completedPerSec3: 4500,
  p99HalfMs: 25,
  sixOverThree: 0.8,
  rssGrowth: 0.1,
  /** CLAIM_MODE=affinity: Redis CPU per order at 12 replicas over that at 3, at most. */
  affinityRedisCpu12Over3: 1.25,
  /** CLAIM_MODE=affinity: round trips per order, whatever the replica count. */
  affinityRoundTrips: 4,
  /** CLAIM_MODE=affinity: 6 replicas' throughput over 3 replicas', at least. */
  affinitySixOverThree: 0.85,
};
