import { delay, requestJson, SystemHarness } from '@eo/local';

let system: SystemHarness;
const FAIL_PREFIX = 'RETFAIL';

beforeAll(async () => {
  system = await SystemHarness.start({
    replicas: 1,
    env: { ORDER_RETENTION_MS: '1500' },
    inventoryEnv: { SWEEP_INTERVAL_MS: '200', MAX_ATTEMPTS: '1', INVENTORY_FAIL_SKU_PREFIX: FAIL_PREFIX },
  });
}, 60_000);
afterAll(() => system?.stop());

describe('ORDER_RETENTION_MS: terminal orders expire, PENDING ones never', () => {
  it('answers 404 for an expired order, and its Idempotency-Key then places a new order', async () => {
    const sku = SystemHarness.uniqueId('RET');
    await system.seedStock(sku, 5);
    const first = await system.placeOrder([{ sku, quantity: 1 }], { idempotencyKey: 'retention-key-1' });
    expect(first.status).toBe(202);
    expect((await system.getOrder(first.orderId!, 5000)).body.status).toBe('RESERVED');
    expect(await system.redis.pttl(system.keys.idempotency('retention-key-1'))).toBeLessThanOrEqual(1500);
    await delay(1700);
    const gone = await system.getOrder(first.orderId!);
    expect(gone.status).toBe(404);
    expect(await system.redis.exists(system.keys.idempotency('retention-key-1'))).toBe(0);
    const again = await system.placeOrder([{ sku, quantity: 1 }], { idempotencyKey: 'retention-key-1' });
    expect(again.status).toBe(202);
    expect(again.orderId).not.toBe(first.orderId);
    // Stock is not given back by expiry: the reservation stands, only the order record goes.
    const stock = await requestJson<{ available: number; reserved: number }>(`${system.inventoryUrl}/inventory/${sku}`);
    expect(stock.body.available + stock.body.reserved).toBe(5);
  }, 30_000);

  it('takes a FAILED order off orders:dead when it expires', async () => {
    const failing = await system.placeOrder([{ sku: `${FAIL_PREFIX}-X`, quantity: 1 }]);
    expect(failing.status).toBe(202);
    expect((await system.getOrder(failing.orderId!, 10_000)).body.status).toBe('FAILED');
    expect(await system.redis.zscore(system.keys.dead, failing.orderId!)).not.toBeNull();
    const deadline = Date.now() + 10_000;
    while ((await system.redis.zscore(system.keys.dead, failing.orderId!)) !== null) {
      if (Date.now() > deadline) throw new Error('still on orders:dead 10 s after it failed');
      await delay(100);
    }
    expect((await system.getOrder(failing.orderId!)).status).toBe(404);
  }, 30_000);
});

describe('service.started', () => {
  it('names the Redis each service uses (password masked)', () => {
    for (const service of system.processes) {
      expect(service.events('service.started')[0]).toMatchObject({ redis: system.redisUrl });
    }
  });
});
