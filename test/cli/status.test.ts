import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { delay, repoRoot, SystemHarness } from '@eo/local';
import type { SystemStatus } from '@eo/tools/status';

const root = repoRoot();
let system: SystemHarness;

async function status(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [join(root, 'tools/dist/status.js'), ...args], {
    env: {
      ...process.env,
      REDIS_URL: system.redisUrl,
      ORDER_URL: system.orderUrl,
      INVENTORY_URL: system.inventory.map((replica) => replica.url).join(','),
    },
  });
  return stdout;
}

beforeAll(async () => {
  // Work long enough that the status CLI (a Node start-up, slower with other tests running) and the
  // test's own read of the locks both fall inside it: the set of locks is stable meanwhile.
  system = await SystemHarness.start({ replicas: 2, inventoryEnv: { INVENTORY_WORK_DELAY_MS: '8000' } });
}, 60_000);
afterAll(() => system?.stop());

describe('npm run status', () => {
  it('shows the backlog, the locks held and by whom while work is in flight, then what each replica processed', async () => {
    const sku = SystemHarness.uniqueId('STATUS');
    await system.seedStock(sku, 100);
    const { accepted } = await system.placeOrders(Array.from({ length: 10 }, () => [{ sku, quantity: 1 }]));
    await delay(1000); // both replicas are 1 s into 8 s of work

    const during = JSON.parse(await status('--json')) as SystemStatus;
    const lockKeys = await system.redis.keys(system.keys.lock('*'));
    expect(lockKeys.length).toBeGreaterThan(0);
    const holders = (await system.redis.mget(...lockKeys)).map((token) => token!.slice(0, token!.lastIndexOf(':')));
    expect(during.locks.total).toBe(lockKeys.length);
    expect(during.locks.total).toBeGreaterThan(0);
    const expectedByReplica: Record<string, number> = {};
    for (const replica of holders) expectedByReplica[replica] = (expectedByReplica[replica] ?? 0) + 1;
    expect(during.locks.byReplica).toEqual(expectedByReplica);
    expect(during.backlog.size).toBe(await system.redis.zcard(system.keys.pending));
    expect(during.orders.PENDING).toBe(during.backlog.size);
    expect(during.redis).toMatchObject({ role: 'master', aof: true });
    expect(during.services.map((s) => s.ready)).toEqual([true, true, true]);

    await system.waitForQuiet(accepted, { timeoutMs: 30_000 });
    const after = JSON.parse(await status('--json')) as SystemStatus;
    expect(after.backlog).toEqual({ size: 0, oldestOverdueMs: 0 });
    expect(after.locks.total).toBe(0);
    expect(after.orders.RESERVED).toBeGreaterThanOrEqual(10);
    const processedBy: Record<string, number> = {};
    for (const id of accepted) {
      const by = (await system.redis.hget(system.keys.order(id), 'processedBy'))!;
      processedBy[by] = (processedBy[by] ?? 0) + 1;
    }
    for (const [replica, n] of Object.entries(processedBy)) expect(after.processedLastMinute[replica]).toBeGreaterThanOrEqual(n);

    const text = await status();
    expect(text).toMatch(/^redis +redis:\/\/127\.0\.0\.1:\d+ \(master\), \d+ MB, AOF on \(appendfsync everysec\)$/m);
    expect(text).toMatch(/^backlog +0 on orders:pending, oldest not yet due$/m);
    expect(text).toMatch(/^locks +0 held$/m);
    expect(text).toMatch(/^last 60 s +processed by inventory-\d \d+/m);
    expect(text.split('\n').every((line) => line.length <= 120)).toBe(true);
  }, 60_000);
});
