import type { Redis } from 'ioredis';
import { item, OrderService, sleep } from './support/order-service';

const TOKEN = 'test-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
let service: OrderService;

beforeAll(async () => {
  service = await OrderService.start({ ADMIN_TOKEN: TOKEN });
});
afterAll(() => service?.close());

async function failedOrder(reason?: string): Promise<string> {
  const orderId = await service.placeOrder([item('ADM-1', 1)]);
  expect(await service.fail(orderId, reason)).toBe('failed');
  return orderId;
}

describe('the admin API (ADMIN_TOKEN)', () => {
  it('answers 401 without the bearer token or with another one, and says how to authenticate', async () => {
    const orderId = await failedOrder();
    for (const headers of [{}, { authorization: 'Bearer not-the-token-at-all' }, { authorization: TOKEN }] as Array<
      Record<string, string>
    >) {
      for (const [path, method] of [
        ['/orders?status=FAILED', 'GET'],
        [`/orders/${orderId}/retry`, 'POST'],
      ] as const) {
        const reply = await service.request(path, { method, headers });
        expect({ path, headers, status: reply.status }).toEqual({ path, headers, status: 401 });
        expect(reply.headers.get('www-authenticate')).toBe('Bearer realm="orders-admin"');
        expect(reply.body).toMatchObject({ statusCode: 401, field: 'Authorization' });
      }
    }
    expect((await service.getOrder(orderId)).body.status).toBe('FAILED');
  });

  it('lists FAILED orders page by page, each once, in the order they failed', async () => {
    const failed: string[] = [];
    for (let i = 0; i < 5; i++) {
      failed.push(await failedOrder(`reason ${i}`));
      await sleep(2); // distinct failure times
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `/orders?status=FAILED&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await service.request(query, { headers: auth });
      expect(page.status).toBe(200);
      const items = page.body.items as Array<Record<string, unknown>>;
      expect(items.length).toBeLessThanOrEqual(2);
      for (const order of items) {
        expect(Object.keys(order).sort()).toEqual(['attempts', 'orderId', 'reason', 'status', 'updatedAt']);
        expect(order).toMatchObject({ status: 'FAILED', attempts: 1 });
        expect(typeof order.reason).toBe('string');
        expect(typeof order.updatedAt).toBe('string');
        seen.push(order.orderId as string);
      }
      cursor = page.body.nextCursor as string | null;
      pages++;
    } while (cursor);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(new Set(seen).size).toBe(seen.length);
    const mine = seen.filter((id) => failed.includes(id));
    expect(mine).toEqual(failed);
  });

  it('lists any status, and refuses a status or limit it does not know, naming the field', async () => {
    const pending = await service.placeOrder([item('ADM-2', 1)]);
    const pendingPage = await service.request('/orders?status=PENDING&limit=1000', { headers: auth });
    expect((pendingPage.body.items as Array<{ orderId: string }>).map((o) => o.orderId)).toContain(pending);
    await service.process(pending);
    const rejected = await service.request('/orders?status=REJECTED&limit=1000', { headers: auth });
    expect((rejected.body.items as Array<{ orderId: string }>).map((o) => o.orderId)).toContain(pending);
    expect((await service.request('/orders?status=LOST', { headers: auth })).body).toMatchObject({ statusCode: 400, field: 'status' });
    expect((await service.request('/orders?limit=0', { headers: auth })).body).toMatchObject({ statusCode: 400, field: 'limit' });
  });

  it('sends a FAILED order through again: PENDING, attempts reset, off orders:dead, kept, on the backlog, published', async () => {
    const orderId = await failedOrder();
    expect(await service.redis.pttl(service.keys.order(orderId))).toBeGreaterThan(0);
    const subscriber: Redis = service.server.client();
    const published: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => published.push(message));
    await subscriber.subscribe(service.keys.orderUpdatesChannel);
    try {
      // The failing attempt's token: cleared by the retry, so the next attempt starts clean.
      expect(await service.redis.hget(service.keys.order(orderId), 'commitToken:PENDING')).not.toBeNull();
      const reply = await service.request(`/orders/${orderId}/retry`, { method: 'POST', headers: auth });
      expect(reply.status).toBe(202);
      expect(reply.body).toEqual({ orderId, status: 'PENDING' });
      const hash = await service.redis.hgetall(service.keys.order(orderId));
      expect(hash).toMatchObject({ status: 'PENDING', attempts: '0' });
      expect(hash.reason).toBeUndefined();
      expect(hash['commitToken:PENDING']).toBeUndefined();
      expect(await service.redis.pttl(service.keys.order(orderId))).toBe(-1);
      expect(await service.redis.zscore(service.keys.dead, orderId)).toBeNull();
      expect(await service.redis.zscore(service.keys.pending, orderId)).not.toBeNull();
      await sleep(100);
      expect(published.map((m) => (JSON.parse(m) as { orderId: string; type: string }).orderId)).toEqual([orderId]);
      const line = service.events('order.retried').find((l) => l.orderId === orderId);
      expect(typeof line?.requestId).toBe('string');
      expect(JSON.stringify(service.logs)).not.toContain(TOKEN);
      // It is an ordinary PENDING order now: a replica processes it.
      expect(await service.process(orderId)).toMatch(/^(reserved|rejected)$/);
    } finally {
      subscriber.disconnect();
    }
  });

  it('answers 409 for an order that is not FAILED (changing nothing), 404 for an unknown one', async () => {
    const pending = await service.placeOrder([item('ADM-3', 1)]);
    const before = await service.redis.hgetall(service.keys.order(pending));
    const conflict = await service.request(`/orders/${pending}/retry`, { method: 'POST', headers: auth });
    expect(conflict.status).toBe(409);
    expect(conflict.body.message).toMatch(/is PENDING, not FAILED/);
    expect(await service.redis.hgetall(service.keys.order(pending))).toEqual(before);
    expect((await service.request('/orders/no-such-order/retry', { method: 'POST', headers: auth })).status).toBe(404);
    expect((await service.request('/orders/bad%20id/retry', { method: 'POST', headers: auth })).body).toMatchObject({ field: 'id' });
  });

  it('retries one order once when two retries race: one 202, one 409', async () => {
    const orderId = await failedOrder();
    const replies = await Promise.all([1, 2].map(() => service.request(`/orders/${orderId}/retry`, { method: 'POST', headers: auth })));
    expect(replies.map((r) => r.status).sort()).toEqual([202, 409]);
    expect(service.events('order.retried').filter((l) => l.orderId === orderId)).toHaveLength(1);
  });
});

describe('a retry whose reply is lost (the connection drops after the script ran, as in a failover)', () => {
  let cut: OrderService;

  beforeAll(async () => {
    cut = await OrderService.start({ ADMIN_TOKEN: TOKEN }, 200, { cutReplies: true });
  });
  afterAll(() => cut?.close());

  it.each([
    ['ioredis re-sends it after reconnecting', 0],
    ['Redis stays unreachable, so the service re-runs it', 1500],
  ])('answers 202 and logs one order.retried: %s', async (_case, refuseMs) => {
    const orderId = await cut.placeOrder([item('ADM-L', 1)]);
    expect(await cut.fail(orderId)).toBe('failed');
    cut.cutter?.arm([orderId, 'OrderPlaced'], { refuseMs });
    const cutsBefore = cut.cutter?.cut ?? 0;
    const reply = await cut.request(`/orders/${orderId}/retry`, { method: 'POST', headers: auth });
    expect(cut.cutter?.cut).toBe(cutsBefore + 1);
    expect(reply.status).toBe(202);
    expect(reply.body).toEqual({ orderId, status: 'PENDING' });
    expect(cut.events('order.retried').filter((l) => l.orderId === orderId)).toHaveLength(1);
    expect(await cut.redis.hget(cut.keys.order(orderId), 'status')).toBe('PENDING');
    // An operator's second retry is a new request: the order is no longer FAILED.
    expect((await cut.request(`/orders/${orderId}/retry`, { method: 'POST', headers: auth })).status).toBe(409);
  });
});

describe('without ADMIN_TOKEN', () => {
  it('the admin routes answer 404, as if they did not exist', async () => {
    const plain = await OrderService.start();
    try {
      const orderId = await plain.placeOrder();
      expect((await plain.request('/orders?status=FAILED', { headers: auth })).status).toBe(404);
      expect((await plain.request(`/orders/${orderId}/retry`, { method: 'POST', headers: auth })).status).toBe(404);
      expect((await plain.getOrder(orderId)).status).toBe(200);
    } finally {
      await plain.close();
    }
  });
});
