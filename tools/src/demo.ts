/**
 * `npm run demo`: 2,000 concurrent orders over ample and scarce SKUs, a share of them cancelled at
 * random moments (some before processing, some after: their stock is released), then the
 * exactly-once check.
 * Runs against the system at `ORDER_URL` (default http://127.0.0.1:3001) if one answers, otherwise
 * starts its own (private Redis, order service, `INVENTORY_REPLICAS` replicas, each order's work taking
 * 250 ms as a downstream call would). Exits 1 on a violation.
 *
 * `npm run demo -- --failover` pauses the Redis master (SIGSTOP) while the orders go in, until the
 * Sentinels promote its replica, then resumes it: the system must be on a local Sentinel topology
 * (`REDIS_TOPOLOGY=sentinel npm start`), or the demo starts one itself. Requests answered 503 are
 * sent again with the same Idempotency-Key, as a client should.
 *
 * Environment: ORDER_URL, INVENTORY_URL (comma-separated list allowed), REDIS_URL and REDIS_NAMESPACE
 * of that system (otherwise read from the `npm start` record, otherwise checked over HTTP only),
 * DEMO_ORDERS (2000), DEMO_CONCURRENCY (64), DEMO_TIMEOUT_MS (120000), DEMO_CANCEL_PERCENT (20: the
 * share of accepted orders cancelled, each 0–1.5 s after its 202), INVENTORY_REPLICAS (3).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { isTerminal, RedisKeys, type OrderItem } from '@eo/contract';
import { createRedis } from '@eo/platform';
import {
  answers,
  checkInvariants,
  formatReport,
  HttpStateReader,
  mapLimit,
  requestJson,
  SentinelTopology,
  SystemHarness,
  type InvariantInput,
} from '@eo/local';
import { flag, parseCommandLine } from './cli/command-line';
import { pauseMasterPastFailover } from './failover';
import { readLocalSystem } from './local-system';

function intEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer ≥ ${min}, got "${raw}"`);
  return value;
}

/** `INVENTORY_WORK_DELAY_MS` of a system the demo starts itself (not the Sentinel one of `--failover`). */
const OWN_SYSTEM_WORK_DELAY_MS = 250;

/** Set once stdout is a broken pipe: the demo then stops as on Ctrl-C, printing nothing more. */
let outputGone = false;

function say(message: string): void {
  if (!outputGone) process.stdout.write(`${message}\n`);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function sameOrigin(a: string, b: string): boolean {
  const norm = (url: string): string => {
    const u = new URL(url);
    return `${u.hostname === 'localhost' ? '127.0.0.1' : u.hostname}:${u.port}`;
  };
  try {
    return norm(a) === norm(b);
  } catch {
    return false;
  }
}

interface Target {
  orderUrl: string;
  inventoryUrl: string;
  /** The system the demo started itself (then logs are checked too). */
  harness?: SystemHarness;
  /** The Sentinel topology the demo started itself for `--failover`. */
  topology?: SentinelTopology;
  redisUrl?: string;
  redis?: Redis;
  keys?: RedisKeys;
}

/**
 * Ctrl-C: a system the demo started is stopped before the demo exits (no replica, no redis-server
 * and no temp folder left behind). While it is still starting, its start is aborted instead (the
 * harness stops what it started) and the demo ends through its normal error path.
 */
const interrupted = new AbortController();
let stopTarget: (() => Promise<void>) | undefined;
function interrupt(why: string, exitCode: number): void {
  if (interrupted.signal.aborted) return;
  say(`${why}: stopping${stopTarget ? ' the system the demo started' : ''}…`);
  interrupted.abort(new Error(`${why} while the demo was starting its system`));
  process.exitCode = exitCode;
  void stopTarget?.()
    .catch(() => undefined)
    .finally(() => process.exit(exitCode));
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => interrupt(signal, 130));
process.stdout.on('error', () => {
  outputGone = true;
  interrupt('broken pipe', 1);
});
process.on('uncaughtException', (error) => {
  process.stderr.write(`demo failed: ${error.stack ?? error.message}\n`);
  interrupt('crash', 1);
});

async function connectTarget(failover: boolean): Promise<Target> {
  const local = readLocalSystem();
  const orderUrl = (process.env.ORDER_URL ?? local?.orderUrl ?? 'http://127.0.0.1:3001').replace(/\/$/, '');
  if (await answers(`${orderUrl}/health/ready`)) {
    const fromStart = local && sameOrigin(local.orderUrl, orderUrl) ? local : undefined;
    const inventoryUrls = (process.env.INVENTORY_URL ?? fromStart?.inventoryUrls.join(',') ?? 'http://127.0.0.1:3002')
      .split(',')
      .map((url) => url.trim().replace(/\/$/, ''))
      .filter(Boolean);
    let inventoryUrl: string | undefined;
    for (const url of inventoryUrls) {
      if (await answers(`${url}/health/ready`)) {
        inventoryUrl = url;
        break;
      }
    }
    if (!inventoryUrl)
      throw new Error(`order answers at ${orderUrl}, but no inventory replica at ${inventoryUrls.join(', ')} (set INVENTORY_URL)`);
    say(`Using the running system: order ${orderUrl}, inventory ${inventoryUrl}`);
    const redisUrl = process.env.REDIS_URL ?? fromStart?.redisUrl;
    if (!redisUrl) {
      say('No REDIS_URL: the final check reads state over HTTP (no backlog check).');
      return { orderUrl, inventoryUrl };
    }
    const redis = createRedis(redisUrl, { connectionName: 'demo', offlineQueue: true, commandTimeoutMs: 10_000 });
    redis.on('error', () => undefined);
    return { orderUrl, inventoryUrl, redisUrl, redis, keys: new RedisKeys(process.env.REDIS_NAMESPACE ?? fromStart?.namespace) };
  }
  const replicas = intEnv('INVENTORY_REPLICAS', 3, 1);
  if (failover) {
    say(
      `No system answers at ${orderUrl}: starting one on a Sentinel topology (master, replica, 3 Sentinels), order, ${replicas} inventory replicas…`,
    );
    const topology = await SentinelTopology.start();
    const harness = await SystemHarness.start({
      redisUrl: topology.url,
      replicas,
      env: { DD_ENV: 'demo', LOG_LEVEL: 'info', REDIS_WAIT_REPLICAS: '1' },
      signal: interrupted.signal,
    }).catch(async (error: unknown) => {
      await topology.stop();
      throw error;
    });
    return {
      orderUrl: harness.orderUrl,
      inventoryUrl: harness.inventoryUrl!,
      harness,
      topology,
      redisUrl: topology.url,
      redis: harness.redis,
      keys: harness.keys,
    };
  }
  say(`No system answers at ${orderUrl}: starting one (private redis-server, order, ${replicas} inventory replicas)…`);
  const harness = await SystemHarness.start({
    replicas,
    env: { DD_ENV: 'demo', LOG_LEVEL: 'info' },
    // A downstream call of a quarter second keeps each order PENDING long enough for some cancellations to land first.
    inventoryEnv: { INVENTORY_WORK_DELAY_MS: String(OWN_SYSTEM_WORK_DELAY_MS) },
    signal: interrupted.signal,
  });
  return { orderUrl: harness.orderUrl, inventoryUrl: harness.inventoryUrl!, harness, redis: harness.redis, keys: harness.keys };
}

/** POST /orders, sent again with the same Idempotency-Key while it answers 503 (at most `retryForMs`). */
async function placeOrder(
  orderUrl: string,
  items: OrderItem[],
  retryForMs: number,
): Promise<{ status: number; orderId?: string; retries: number }> {
  const key = randomUUID();
  const giveUpAt = Date.now() + retryForMs;
  for (let retries = 0; ; retries++) {
    const reply = await requestJson<{ orderId?: string }>(`${orderUrl}/orders`, {
      body: { items },
      headers: { 'idempotency-key': key },
    }).catch((error: unknown) => ({ status: 0, body: { error: String(error) } as { orderId?: string } }));
    if ((reply.status !== 503 && reply.status !== 0) || Date.now() >= giveUpAt) {
      // 200: a retry found the order its first try created.
      const accepted = reply.status === 202 || reply.status === 200;
      return { status: accepted ? 202 : reply.status, orderId: accepted ? reply.body.orderId : undefined, retries };
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** retries, 1000)));
  }
}

/** POST /orders/:id/cancel, sent again while it answers 503 (at most `retryForMs`): a cancellation is safe to repeat. */
async function cancelOrder(orderUrl: string, orderId: string, retryForMs: number): Promise<{ orderId: string; status: number }> {
  const giveUpAt = Date.now() + retryForMs;
  for (let retries = 0; ; retries++) {
    const reply = await requestJson(`${orderUrl}/orders/${orderId}/cancel`, { method: 'POST' }).catch(() => ({ status: 0 }));
    if ((reply.status !== 503 && reply.status !== 0) || Date.now() >= giveUpAt) return { orderId, status: reply.status };
    await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** retries, 1000)));
  }
}

function pick<T>(list: readonly T[]): T {
  return list[Math.floor(Math.random() * list.length)];
}

/** 1–3 distinct SKUs, quantities 1–3; about half the orders want a scarce SKU. */
function makeOrder(ample: string[], scarce: string[]): OrderItem[] {
  const skus = new Set<string>([pick(ample)]);
  if (Math.random() < 0.5) skus.add(pick(scarce));
  if (Math.random() < 0.3) skus.add(pick(ample));
  return [...skus].map((sku) => ({ sku, quantity: 1 + Math.floor(Math.random() * 3) }));
}

async function main(): Promise<number> {
  const { values, help } = parseCommandLine(process.argv.slice(2), { failover: flag() });
  if (help) {
    say('usage: npm run demo [-- --failover]   (DEMO_ORDERS, DEMO_CONCURRENCY, DEMO_TIMEOUT_MS in the environment)');
    return 0;
  }
  const failover = values.failover;
  const total = intEnv('DEMO_ORDERS', 2000, 1);
  const concurrency = intEnv('DEMO_CONCURRENCY', 64, 1);
  const timeoutMs = intEnv('DEMO_TIMEOUT_MS', 120_000, 1000);
  const cancelPercent = intEnv('DEMO_CANCEL_PERCENT', 20, 0);
  if (cancelPercent > 100) throw new Error(`DEMO_CANCEL_PERCENT must be an integer from 0 to 100, got "${cancelPercent}"`);
  const target = await connectTarget(failover);
  stopTarget = async () => {
    if (target.harness) await target.harness.stop();
    else target.redis?.disconnect();
    await target.topology?.stop();
  };
  if (failover && !target.redisUrl?.includes('+sentinel://')) {
    await target.harness?.stop();
    target.redis?.disconnect();
    throw new Error(
      '--failover needs the system on a Sentinel topology: start it with REDIS_TOPOLOGY=sentinel npm start (or stop it and let the demo start one)',
    );
  }
  try {
    // A fresh SKU prefix per run: repeated runs against one system never share stock.
    const run = `demo-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
    const initialStock: Record<string, number> = {};
    const ample = [1, 2, 3, 4].map((i) => `${run}-AMPLE-${i}`);
    const scarce = [1, 2, 3, 4].map((i) => `${run}-SCARCE-${i}`);
    for (const sku of ample) initialStock[sku] = 100_000;
    for (const sku of scarce) initialStock[sku] = 60;
    for (const [sku, available] of Object.entries(initialStock)) {
      const reply = await requestJson(`${target.inventoryUrl}/inventory/${sku}`, { method: 'PUT', body: { available } });
      if (reply.status !== 200) throw new Error(`PUT /inventory/${sku} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
    }
    say(`Seeded ${ample.length} ample SKUs (100,000 each) and ${scarce.length} scarce ones (60 each), prefix ${run}`);

    const orders = Array.from({ length: total }, () => makeOrder(ample, scarce));
    const placedAt = performance.now();
    let answered = 0;
    let failingOver: Promise<unknown> | undefined;
    const cancellations: Array<Promise<{ orderId: string; status: number }>> = [];
    const replies = await mapLimit(orders, concurrency, async (items) => {
      // A third of the way in, the master stops mid-stream.
      if (failover && failingOver === undefined && answered >= total / 3) {
        failingOver = pauseMasterPastFailover(target.redisUrl!, say);
      }
      const reply = await placeOrder(target.orderUrl, items, failover ? 120_000 : 0);
      answered++;
      const orderId = reply.orderId;
      if (orderId !== undefined && Math.random() * 100 < cancelPercent) {
        // At a random moment: some land while the order is PENDING, some once a replica reserved it.
        const later = new Promise((resolve) => setTimeout(resolve, Math.random() * 1500));
        cancellations.push(later.then(() => cancelOrder(target.orderUrl, orderId, failover ? 120_000 : 0)));
      }
      return reply;
    });
    await failingOver;
    const cancelAnswers = await Promise.all(cancellations);
    const placeMs = performance.now() - placedAt;
    const accepted = replies.flatMap((r) => (r.status === 202 && typeof r.orderId === 'string' ? [r.orderId] : []));
    const refused = new Map<number, number>();
    for (const r of replies) if (r.status !== 202) refused.set(r.status, (refused.get(r.status) ?? 0) + 1);
    const retries = replies.reduce((sum, r) => sum + r.retries, 0);
    say(
      `Placed ${total} orders with ${concurrency} in flight in ${seconds(placeMs)} (${Math.round(total / (placeMs / 1000))}/s): ${accepted.length} accepted` +
        (retries ? ` (${retries} retries of a 503 with the same Idempotency-Key)` : ''),
    );
    if (refused.size) say(`  refused: ${[...refused].map(([status, n]) => `${n}× ${status === 0 ? 'network error' : status}`).join(', ')}`);
    if (cancelAnswers.length) {
      const count = (status: number) => cancelAnswers.filter((answer) => answer.status === status).length;
      const other = cancelAnswers.length - count(200) - count(202) - count(409);
      say(
        `Cancelled ${cancelAnswers.length} of them at random moments: ${count(200)} while PENDING (200, CANCELLED at once), ` +
          `${count(202)} once RESERVED (202, a replica releases the stock), ${count(409)} already REJECTED (409)` +
          (other ? `, ${other} other answers` : ''),
      );
      if (count(200) === 0) {
        say(
          '  (none landed while PENDING: this system finishes an order before a client can cancel it; INVENTORY_WORK_DELAY_MS=250 npm start simulates a slower downstream call)',
        );
      }
    }

    // Wait for every order to be terminal (the service holds each GET up to waitMs).
    const deadline = Date.now() + timeoutMs;
    const processedBy = new Map<string, string>();
    let open = accepted;
    while (open.length > 0 && Date.now() < deadline) {
      const views = await mapLimit(open, concurrency, (id) =>
        requestJson<{ status?: string; processedBy?: string; cancel?: string }>(`${target.orderUrl}/orders/${id}?waitMs=5000`, {
          timeoutMs: 20_000,
        }).catch(() => undefined),
      );
      const next: string[] = [];
      views.forEach((view, i) => {
        if (view?.status === 200 && isTerminal(view.body.status) && view.body.cancel === undefined)
          processedBy.set(open[i], view.body.processedBy ?? '(none)');
        else next.push(open[i]);
      });
      open = next;
    }
    const doneMs = performance.now() - placedAt;
    if (open.length) say(`${open.length} order(s) still not terminal after ${seconds(timeoutMs)}`);
    else say(`All ${accepted.length} accepted orders terminal ${seconds(doneMs)} after the first was placed`);

    const perReplica = new Map<string, number>();
    for (const replica of processedBy.values()) perReplica.set(replica, (perReplica.get(replica) ?? 0) + 1);
    say('\nLast change per instance (processedBy; the order service for an order cancelled before processing):');
    const widest = Math.max(...[...perReplica.values()], 1);
    for (const [replica, n] of [...perReplica].sort(([a], [b]) => a.localeCompare(b))) {
      say(`  ${replica.padEnd(16)} ${String(n).padStart(5)}  ${'#'.repeat(Math.round((n / widest) * 40))}`);
    }

    const input: InvariantInput = { acceptedOrderIds: accepted, initialStock, cancelAnswers };
    if (target.harness) {
      await target.harness.waitForQuiet(accepted, { timeoutMs: 30_000 }).catch((error: unknown) => say(String(error)));
      Object.assign(input, { redis: target.redis, keys: target.keys, logs: target.harness.logs });
    } else if (target.redis && target.keys) {
      // A shared system may have other work in flight; only this run's orders must be off the backlog.
      Object.assign(input, { redis: target.redis, keys: target.keys, backlogMustBeEmpty: false });
    } else {
      input.reader = new HttpStateReader(target.orderUrl, target.inventoryUrl);
    }
    const report = await checkInvariants(input);
    say(`\nVerification (${target.harness ? 'Redis state and every service log line' : target.redis ? 'Redis state' : 'HTTP state'}):`);
    say(formatReport(report).replace(/^/gm, '  '));
    return report.ok && open.length === 0 && accepted.length > 0 ? 0 : 1;
  } finally {
    await stopTarget();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (interrupted.signal.aborted) return; // Ctrl-C: the handler above sets the exit code
    process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
