/**
 * `npm run bench:claims`: what a claim costs, lost or won, measured on one real inventory replica.
 *
 * With N replicas every order makes N−1 of them lose the claim, so the cost of a loss decides how
 * throughput scales with N (issue 6: 6 replicas must keep 80 % of the throughput of 3). The end-to-end
 * bench sees that cost only through the noise of ten processes sharing two cores; this one isolates
 * it. It stores orders that another holder has locked (`locked`), that are already terminal
 * (`processed`), or that are free to take (`won`: claim, reserve, commit), publishes their
 * envelopes on `order_updates` at a fixed rate, and divides the replica's and Redis's CPU time by
 * the messages handled. Every message must come back as exactly its script calls in Redis's command
 * stats (one claim; a claim and a commit when won), and every won order must end RESERVED, or the
 * run fails. With tracing on, a stand-in agent takes and discards the traces, as in `npm run bench`.
 *
 *   npm run bench:claims -- [--rate 4000] [--seconds 10] [--tracing on|off] [--cpu-prof DIR]
 *
 * Runs against a private redis-server on a free port (never the one on 6379).
 */
import type { Server } from 'node:http';
import { resolve } from 'node:path';
import type { Redis } from 'ioredis';
import { buildEnvelope, OrderStore, type RedisKeys } from '@eo/contract';
import { delay, RedisServer, SystemHarness } from '@eo/local';
import { startAgentSink } from './agent-sink';
import { cpuTimes } from './proc';

interface Options {
  rate: number;
  seconds: number;
  tracing: boolean;
  cpuProfDir: string | undefined;
}

import { choice, int, parseCommandLine, text, UsageError } from '../cli/command-line';

const USAGE = 'usage: npm run bench:claims -- [--rate 4000] [--seconds 10] [--tracing on|off] [--cpu-prof DIR]';

function parseOptions(argv: string[]): Options | undefined {
  const { values, help } = parseCommandLine(argv, {
    rate: int(1, 1_000_000, 4000),
    seconds: int(1, 3600, 10),
    tracing: choice(['on', 'off'], 'off'),
    'cpu-prof': text(),
  });
  if (help) return undefined;
  const dir = values['cpu-prof'];
  return {
    rate: values.rate,
    seconds: values.seconds,
    tracing: values.tracing === 'on',
    cpuProfDir: dir === undefined ? undefined : resolve(dir),
  };
}

type Kind = 'locked' | 'processed' | 'won';

/** Script calls one message costs: a claim, and a commit when the claim is won. */
const CALLS: Record<Kind, number> = { locked: 1, processed: 1, won: 2 };

const ITEMS = [{ sku: 'SKU-1', quantity: 1 }];

/** Stores `count` orders: locked by someone else, already RESERVED, or PENDING and free (`won`). */
async function seed(redis: Redis, keys: RedisKeys, kind: Kind, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `claims-${kind}-${i}`);
  const now = new Date().toISOString();
  for (let start = 0; start < ids.length; start += 1000) {
    const pipeline = redis.pipeline();
    for (const id of ids.slice(start, start + 1000)) {
      pipeline.hset(keys.order(id), {
        status: kind === 'processed' ? 'RESERVED' : 'PENDING',
        items: JSON.stringify(ITEMS),
        createdAt: now,
        updatedAt: now,
        attempts: kind === 'processed' ? 1 : 0,
      });
      if (kind === 'locked') pipeline.set(keys.lock(id), 'bench:another-holder', 'PX', 3_600_000);
    }
    await pipeline.exec();
  }
  return ids;
}

async function claimCalls(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  let calls = 0;
  for (const match of info.matchAll(/^cmdstat_(evalsha|eval):calls=(\d+)/gm)) calls += Number(match[2]);
  return calls;
}

/** Publishes one envelope per id at `rate` a second, in 1 ms slices; resolves when all are sent. */
async function publishAtRate(redis: Redis, channel: string, ids: string[], rate: number): Promise<void> {
  const envelopes = ids.map((id) => JSON.stringify(buildEnvelope(id, ITEMS, new Date().toISOString())));
  const startedAt = performance.now();
  let sent = 0;
  while (sent < envelopes.length) {
    const due = Math.min(envelopes.length, Math.floor(((performance.now() - startedAt) / 1000) * rate));
    if (due > sent) {
      const pipeline = redis.pipeline();
      for (; sent < due; sent++) pipeline.publish(channel, envelopes[sent]);
      await pipeline.exec();
    }
    await delay(1);
  }
}

interface KindResult {
  kind: Kind;
  messages: number;
  seconds: number;
  replicaUserUs: number;
  replicaSystemUs: number;
  redisUs: number;
}

async function measure(harness: SystemHarness, server: RedisServer, redis: Redis, kind: Kind, options: Options): Promise<KindResult> {
  const { keys } = harness;
  const count = options.rate * options.seconds;
  const warmup = await seed(redis, keys, kind, Math.min(count, options.rate * 2));
  const ids = (await seed(redis, keys, kind, count + warmup.length)).slice(warmup.length);
  const replica = harness.inventory[0];
  const waitForCalls = async (target: number): Promise<void> => {
    const deadline = Date.now() + 60_000;
    // Sweeps add calls too, so `target` is reached no later than the last claim (checked below).
    while ((await claimCalls(redis)) < target) {
      if (Date.now() > deadline) throw new Error(`the replica handled fewer messages than were published (${kind})`);
      await delay(20);
    }
  };
  // Warm-up: the JIT settles before the measured window.
  const calls0 = await claimCalls(redis);
  await publishAtRate(redis, keys.orderUpdatesChannel, warmup, options.rate);
  await waitForCalls(calls0 + warmup.length * CALLS[kind]);
  await delay(500);

  const calls1 = await claimCalls(redis);
  const replica0 = cpuTimes(replica.pid!);
  const redis0 = cpuTimes(server.pid!);
  const startedAt = performance.now();
  await publishAtRate(redis, keys.orderUpdatesChannel, ids, options.rate);
  await waitForCalls(calls1 + ids.length * CALLS[kind]);
  const seconds = (performance.now() - startedAt) / 1000;
  const replica1 = cpuTimes(replica.pid!);
  const redis1 = cpuTimes(server.pid!);
  const handled = (await claimCalls(redis)) - calls1;
  // The message's calls, plus the replica's backlog sweep (a due-orders call every 2 s ± 20 %).
  const expected = ids.length * CALLS[kind];
  const sweeps = Math.ceil(seconds / 1.6) + 1;
  if (handled < expected || handled > expected + sweeps) {
    throw new Error(`${handled} script calls for ${expected} expected and at most ${sweeps} sweeps (${kind})`);
  }
  if (kind === 'won') {
    const statuses = new Map<string, number>();
    for (const status of await new OrderStore(redis, keys).statuses(ids))
      statuses.set(String(status), (statuses.get(String(status)) ?? 0) + 1);
    if (statuses.get('RESERVED') !== ids.length) throw new Error(`won orders did not all end RESERVED: ${JSON.stringify([...statuses])}`);
  }
  const perMessageUs = (a: number, b: number): number => ((b - a) / ids.length) * 1e6;
  return {
    kind,
    messages: ids.length,
    seconds,
    replicaUserUs: perMessageUs(replica0.user, replica1.user),
    replicaSystemUs: perMessageUs(replica0.system, replica1.system),
    redisUs: perMessageUs(redis0.user + redis0.system, redis1.user + redis1.system),
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (!options) return console.log(USAGE);
  const server = await RedisServer.start({ detached: true });
  let harness: SystemHarness | undefined;
  let agent: Server | undefined;
  const redis = server.client();
  try {
    const env: Record<string, string> = { LOG_LEVEL: 'info', DD_ENV: 'bench' };
    if (!options.tracing) env.DD_TRACE_ENABLED = 'false';
    else {
      const sink = await startAgentSink();
      agent = sink.server;
      Object.assign(env, { DD_AGENT_HOST: '127.0.0.1', DD_TRACE_AGENT_PORT: String(sink.port) });
    }
    harness = await SystemHarness.start({
      redisServer: server,
      replicas: 1,
      env,
      detached: true,
      keepLogs: { events: [], fields: [] },
      ...(options.cpuProfDir !== undefined && {
        nodeArgs: (name: string) => ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`, `--cpu-prof-name=claims-${name}.cpuprofile`],
      }),
    });
    console.log(
      `claims on one inventory replica: ${options.rate} messages/s for ${options.seconds} s per kind, tracing ${options.tracing ? 'on' : 'off'}`,
    );
    await harness.seedStock(ITEMS[0].sku, 1_000_000_000);
    // What the replica burns with nothing to do (timers, the sweep, metric flushes), for scale.
    const idle0 = cpuTimes(harness.inventory[0].pid!);
    await delay(3000);
    const idle1 = cpuTimes(harness.inventory[0].pid!);
    const idleMsPerSec = ((idle1.user + idle1.system - idle0.user - idle0.system) / 3) * 1000;
    const results: KindResult[] = [];
    for (const kind of ['locked', 'processed', 'won'] as const) results.push(await measure(harness, server, redis, kind, options));
    console.log('\nkind        messages  msgs/s   replica CPU µs/msg (user + sys)   redis CPU µs/msg (publish + scripts)');
    for (const r of results) {
      const total = r.replicaUserUs + r.replicaSystemUs;
      console.log(
        `${r.kind.padEnd(10)}  ${String(r.messages).padStart(8)}  ${String(Math.round(r.messages / r.seconds)).padStart(6)}   ` +
          `${total.toFixed(1).padStart(6)} (${r.replicaUserUs.toFixed(1)} + ${r.replicaSystemUs.toFixed(1)})`.padEnd(34) +
          `${r.redisUs.toFixed(1).padStart(6)}`,
      );
    }
    console.log(
      `\nidle replica: ${idleMsPerSec.toFixed(1)} ms CPU a second (included above; it weighs more at low rates)` +
        '\n(CPU from /proc/<pid>/stat over the measured window, divided by the messages in it; clock ticks are 10 ms, so use ≥ 10 s)',
    );
  } finally {
    redis.disconnect();
    await harness?.stop();
    await server.stop();
    agent?.close();
  }
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`${error.message}\n${USAGE}`);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
