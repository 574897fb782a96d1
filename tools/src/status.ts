/**
 * `npm run status`: the system at a glance, read from Redis (and the services' readiness when their
 * URLs are known): orders by status, the backlog and how overdue its oldest entry is, the dead
 * orders, the locks held now and by which replica, what each replica processed in the last minute,
 * and whether Redis persists its data.
 *
 *   npm run status [-- --json] [-- --watch [seconds]] [-- --scan-limit 200000]
 *
 * Environment: REDIS_URL and REDIS_NAMESPACE (default: the `npm start` record), ORDER_URL and
 * INVENTORY_URL (comma-separated; default: the record too).
 */
import type { Redis } from 'ioredis';
import { CANCELLING, OrderStatus, OrderStore, RedisKeys } from '@eo/contract';
import { createRedis, credentialsOf, loadCommonConfig, maskRedisUrl } from '@eo/platform';
import { readLocalSystem } from './local-system';
import { flag, int, optionalInt, parseCommandLine, UsageError } from './cli/command-line';
import { scanKeys } from './scan';

/** What `--json` prints. */
export interface SystemStatus {
  at: string;
  redis: { url: string; role: string; usedMemoryMb: number; aof: boolean; appendfsync: string | null };
  /**
   * Order counts; FAILED exact (its sorted set), PENDING exact from the backlog less the RESERVED
   * orders with a cancellation under way (`CANCELLING`, also on it; the whole backlog when the scan
   * stopped short), the others from a scan of at most `scanLimit` orders.
   */
  orders: Record<string, number>;
  scanned: { orders: number; complete: boolean };
  backlog: { size: number; oldestOverdueMs: number };
  dead: number;
  locks: { total: number; byReplica: Record<string, number> };
  processedLastMinute: Record<string, number>;
  services: Array<{ url: string; ready: boolean | null }>;
}

const USAGE = 'usage: npm run status [-- --json] [--watch [seconds]] [--scan-limit N]';

const OPTIONS = {
  json: flag(),
  watch: optionalInt(1, 3600, 2),
  'scan-limit': int(1, Number.MAX_SAFE_INTEGER, 200_000),
};

async function ready(url: string): Promise<boolean | null> {
  try {
    return (await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) })).status === 200;
  } catch {
    return null;
  }
}

/** Reads the status once. */
export async function readStatus(
  redis: Redis,
  keys: RedisKeys,
  redisUrl: string,
  serviceUrls: string[],
  scanLimit: number,
): Promise<SystemStatus> {
  const [replication, memory, persistence] = await Promise.all(['replication', 'memory', 'persistence'].map((s) => redis.info(s)));
  const appendfsync = await redis
    .config('GET', 'appendfsync')
    .then((reply) => (reply as string[])[1] ?? null)
    .catch(() => null); // an ACL user may not run CONFIG
  const [seconds, micros] = await redis.time();
  const nowMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);

  const orders: Record<string, number> = Object.fromEntries([...Object.values(OrderStatus), CANCELLING].map((s) => [s, 0]));
  const processedLastMinute: Record<string, number> = {};
  const store = new OrderStore(redis, keys);
  const scanned = await store.forEachId(scanLimit, async (found) => {
    for (const view of await store.views(found)) {
      if (view === undefined) continue;
      const status = view.cancel === 'requested' ? CANCELLING : view.status;
      orders[status] = (orders[status] ?? 0) + 1;
      const { processedBy, processedAt } = view;
      if (processedBy && processedAt && nowMs - Date.parse(processedAt) <= 60_000) {
        processedLastMinute[processedBy] = (processedLastMinute[processedBy] ?? 0) + 1;
      }
    }
  });
  // Exact, whatever the scan saw.
  const [pending, dead, oldest] = await Promise.all([
    redis.zcard(keys.pending),
    redis.zcard(keys.dead),
    redis.zrange(keys.pending, 0, 0, 'WITHSCORES'),
  ]);
  // The backlog holds the PENDING orders and the releases to do; once the scan has seen them all, it is exact.
  orders[OrderStatus.Pending] = scanned.complete ? Math.max(0, pending - orders[CANCELLING]) : pending;
  orders[OrderStatus.Failed] = Math.max(orders[OrderStatus.Failed] ?? 0, dead);

  const byReplica: Record<string, number> = {};
  let lockCount = 0;
  await scanKeys(redis, keys.lock('*'), Number.MAX_SAFE_INTEGER, async (found) => {
    for (const token of await redis.mget(...found)) {
      if (token === null) continue;
      lockCount++;
      // A lock token is `<replica>:<random>` (who holds it is readable in `GET lock:<id>`).
      const replica = token.slice(0, token.lastIndexOf(':')) || '(unknown)';
      byReplica[replica] = (byReplica[replica] ?? 0) + 1;
    }
  });

  return {
    at: new Date(nowMs).toISOString(),
    redis: {
      url: maskRedisUrl(redisUrl),
      role: /^role:(\w+)/m.exec(replication)?.[1] ?? 'unknown',
      usedMemoryMb: Math.round(Number(/^used_memory:(\d+)/m.exec(memory)?.[1] ?? 0) / 2 ** 20),
      aof: /^aof_enabled:1/m.test(persistence),
      appendfsync,
    },
    orders,
    scanned: { orders: scanned.seen, complete: scanned.complete },
    backlog: { size: pending, oldestOverdueMs: oldest.length === 2 ? Math.max(0, nowMs - Number(oldest[1])) : 0 },
    dead,
    locks: { total: lockCount, byReplica },
    processedLastMinute,
    services: await Promise.all(serviceUrls.map(async (url) => ({ url, ready: await ready(url) }))),
  };
}

/** The status as lines that fit a terminal. */
export function formatStatus(status: SystemStatus): string {
  const count = (n: number) => n.toLocaleString('en-US');
  const pairs = (record: Record<string, number>) =>
    Object.entries(record)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k} ${count(v)}`)
      .join(', ') || '-';
  const r = status.redis;
  const persistence = r.aof ? `AOF on${r.appendfsync ? ` (appendfsync ${r.appendfsync})` : ''}` : 'AOF OFF: a Redis restart loses orders';
  return [
    `at ${status.at}`,
    `redis      ${r.url} (${r.role}), ${r.usedMemoryMb} MB, ${persistence}`,
    `orders     ${pairs(status.orders)}${status.scanned.complete ? '' : ` (RESERVED/REJECTED from the first ${count(status.scanned.orders)} scanned)`}`,
    `backlog    ${count(status.backlog.size)} on orders:pending, oldest ${status.backlog.oldestOverdueMs === 0 ? 'not yet due' : `${(status.backlog.oldestOverdueMs / 1000).toFixed(1)} s overdue`}`,
    `dead       ${count(status.dead)} FAILED on orders:dead${status.dead > 0 ? ' (npm run orders -- failed)' : ''}`,
    `locks      ${count(status.locks.total)} held${status.locks.total ? `: ${pairs(status.locks.byReplica)}` : ''}`,
    `last 60 s  processed by ${pairs(status.processedLastMinute)}`,
    ...status.services.map((s) => `service    ${s.url} ${s.ready === null ? 'not answering' : s.ready ? 'ready' : 'NOT READY'}`),
  ].join('\n');
}

async function main(): Promise<void> {
  const { values, help } = parseCommandLine(process.argv.slice(2), OPTIONS);
  if (help) return void process.stdout.write(`${USAGE}\n`);
  const options = { json: values.json, watchSeconds: values.watch, scanLimit: values['scan-limit'] };
  const local = readLocalSystem();
  const redisUrl = process.env.REDIS_URL ?? local?.redisUrl;
  if (!redisUrl) throw new Error('no REDIS_URL, and no npm start running here: set REDIS_URL (and REDIS_NAMESPACE)');
  const config = loadCommonConfig({ ...process.env, REDIS_URL: redisUrl }, { service: 'status', port: 0 });
  const redis = createRedis(redisUrl, {
    connectionName: 'status',
    offlineQueue: false,
    commandTimeoutMs: 10_000,
    ...credentialsOf(config),
  });
  let lastError: string | undefined;
  redis.on('error', (err: Error) => (lastError = err.message));
  const keys = new RedisKeys(process.env.REDIS_NAMESPACE ?? local?.namespace);
  const urls = [
    ...(process.env.ORDER_URL ? [process.env.ORDER_URL] : local ? [local.orderUrl] : []),
    ...(process.env.INVENTORY_URL?.split(',') ?? local?.inventoryUrls ?? []),
  ].map((url) => url.trim().replace(/\/$/, ''));
  try {
    await new Promise<void>((resolve, reject) => {
      redis.once('ready', resolve);
      setTimeout(() => reject(new Error(`cannot reach ${maskRedisUrl(redisUrl)}: ${lastError ?? 'no answer within 5 s'}`)), 5000).unref();
    });
    for (;;) {
      const status = await readStatus(redis, keys, redisUrl, urls, options.scanLimit);
      const text = options.json ? JSON.stringify(status, null, 2) : formatStatus(status);
      process.stdout.write(options.watchSeconds !== undefined && process.stdout.isTTY ? `\x1b[2J\x1b[H${text}\n` : `${text}\n`);
      if (options.watchSeconds === undefined) return;
      await new Promise((resolve) => setTimeout(resolve, options.watchSeconds! * 1000));
    }
  } finally {
    redis.disconnect();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `status: ${error instanceof Error ? error.message : String(error)}\n${error instanceof UsageError ? `${USAGE}\n` : ''}`,
    );
    process.exitCode = error instanceof UsageError ? 2 : 1;
  });
}
