import { ACCEPT_UNAVAILABLE } from '../src/orders/orders.service';
import { OrderService, item } from './support/order-service';

let service: OrderService;

beforeAll(async () => {
  service = await OrderService.start();
});
afterAll(async () => {
  await service.close();
});

describe('with Redis away', () => {
  it('stays live, turns unready, answers 503 at once writing nothing, and recovers when Redis returns', async () => {
    const order = { items: [item('OUTAGE', 1)], orderId: 'outage-order' };
    const headers = { 'Idempotency-Key': 'outage-key' };
    expect((await service.request('/health/ready')).status).toBe(200);
    const keysBefore = await service.redis.dbsize();

    await service.server.stop({ keepData: true });
    try {
      await service.waitUntilReady(503, 5000);
      expect((await service.request('/health/live')).status).toBe(200);

      const started = Date.now();
      const refused = await service.postOrder(order, headers);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(refused.status).toBe(503);
      expect(refused.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: ACCEPT_UNAVAILABLE });
      expect(ACCEPT_UNAVAILABLE).toBe('Redis is unavailable; the order was not accepted. Retry with the same Idempotency-Key.');

      const read = await service.getOrder('outage-order');
      expect(read.status).toBe(503);
      expect(read.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
    } finally {
      await service.server.restart();
    }

    await service.waitUntilReady(200, 15_000);
    expect(await service.redis.dbsize()).toBe(keysBefore);
    expect(await service.redis.exists(service.keys.order('outage-order'), service.keys.idempotency('outage-key'))).toBe(0);

    // The retry the 503 asked for now succeeds, exactly once.
    expect((await service.postOrder(order, headers)).status).toBe(202);
    expect((await service.postOrder(order, headers)).status).toBe(200);
  });

  it('wakes waiters again after the subscriber reconnects', async () => {
    await service.scripts.setStock('AFTER-OUTAGE', 5);
    const orderId = await service.placeOrder([item('AFTER-OUTAGE', 1)]);
    const held = service.getOrder(orderId, { waitMs: 20_000 });
    const started = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await service.process(orderId);
    expect((await held).body).toMatchObject({ status: 'RESERVED' });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
