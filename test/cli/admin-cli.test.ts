import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { checkInvariants, repoRoot, SystemHarness } from '@eo/local';

const root = repoRoot();
const TOKEN = 'cli-test-admin-token-42';
const FAIL = 'CLIFAIL';
let system: SystemHarness;

function orders(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return ordersWith(TOKEN, ...args);
}

function ordersWith(token: string, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [join(root, 'tools/dist/orders.js'), ...args], {
    env: { ...process.env, ADMIN_TOKEN: token, ORDER_URL: system.orderUrl },
  });
}

/** What a command that must fail printed on stderr. */
async function stderrOf(run: Promise<unknown>): Promise<string> {
  try {
    await run;
  } catch (error) {
    return String((error as { stderr?: string }).stderr);
  }
  throw new Error('the command succeeded');
}

beforeAll(async () => {
  system = await SystemHarness.start({
    replicas: 2,
    orderEnv: { ADMIN_TOKEN: TOKEN },
    // Work on these SKUs fails, once: every such order ends FAILED.
    inventoryEnv: { INVENTORY_FAIL_SKU_PREFIX: FAIL, MAX_ATTEMPTS: '1', SWEEP_INTERVAL_MS: '200' },
  });
}, 60_000);
afterAll(() => system?.stop());

describe('npm run orders (the admin CLI) against a running system', () => {
  it('lists the FAILED orders, retries them all, and each is then processed exactly once', async () => {
    const sku = `${FAIL}-${SystemHarness.uniqueId('A')}`;
    await system.seedStock(sku, 100);
    const { accepted } = await system.placeOrders(Array.from({ length: 12 }, () => [{ sku, quantity: 1 }]));
    await system.waitForQuiet(accepted);

    const listed = await orders('failed', '--limit', '100');
    for (const orderId of accepted) expect(listed.stdout).toContain(orderId);
    expect(listed.stdout).toMatch(/^orderId +attempts +updatedAt +reason$/m);
    expect(listed.stdout).toContain('12 FAILED order(s)');

    // The downstream is fixed: replicas whose work succeeds replace the failing ones.
    await system.startInventory(2, { INVENTORY_FAIL_SKU_PREFIX: undefined });
    await Promise.all(system.inventory.slice(0, 2).map((replica) => replica.stop()));

    const one = await orders('retry', accepted[0]);
    expect(one.stdout).toContain(`${accepted[0]}: PENDING again`);
    expect(await stderrOf(orders('retry', accepted[0]))).toMatch(/is not FAILED; nothing changed/);
    const all = await orders('retry', '--all-failed');
    expect(all.stdout).toContain('retrying 11 FAILED order(s)');
    expect(all.stdout).toMatch(/11\/11: 11 retried, 0 no longer FAILED, 0 gone/);

    await system.waitForQuiet(accepted, { timeoutMs: 30_000 });
    const report = await checkInvariants({
      redis: system.redis,
      keys: system.keys,
      acceptedOrderIds: accepted,
      initialStock: { [sku]: 100 },
      logs: system.logs,
    });
    expect(report.violations).toEqual([]);
    expect(report.reserved).toBe(12);
    expect(report.processedTwice).toEqual([]);
    // The order service's lines come through its own pipe, on their own time: wait for each.
    for (const orderId of accepted) await system.waitForLog((l) => l.event === 'order.retried' && l.orderId === orderId, 5000);
    expect(system.events('order.retried')).toHaveLength(12);
    expect((await orders('failed')).stdout).toContain('no FAILED orders');
  }, 90_000);

  it('says what is wrong without a token or with a wrong one', async () => {
    expect(await stderrOf(ordersWith('', 'failed'))).toContain('ADMIN_TOKEN is not set');
    expect(await stderrOf(ordersWith('wrong-token-wrong-token', 'failed'))).toContain('401: the bearer token is not the ADMIN_TOKEN');
  });
});
