import { OrderStatus, parseEnvelope } from '@eo/contract';
import { hashOrderBody } from '../src/orders/orders.service';
import { OrderService, item, sleep, type ApiResponse } from './support/order-service';

let service: OrderService;

beforeAll(async () => {
  service = await OrderService.start();
});
afterAll(async () => {
  await service.close();
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** Asserts an error body: exact status, reason and field; the message by pattern. */
function expectError(response: ApiResponse, expected: { statusCode: number; error: string; field: string }, message: RegExp): void {
  const { message: actual, ...rest } = response.body;
  expect(rest).toEqual(expected);
  expect(actual).toMatch(message);
}

const badRequest = (field: string, message: string) => ({ statusCode: 400, error: 'Bad Request', message, field });

describe('POST /orders validation', () => {
  const manyItems = (n: number) => Array.from({ length: n }, () => item());

  it.each([
    ['no items', { items: [] }, 'items', 'items must hold 1 to 100 items'],
    ['101 items', { items: manyItems(101) }, 'items', 'items must hold 1 to 100 items'],
    ['missing items', {}, 'items', 'items must be an array'],
    ['an empty sku', { items: [item('')] }, 'items[0].sku', 'items[0].sku must be 1 to 64 characters of A-Z a-z 0-9 . _ : -'],
    [
      'a 65-character sku',
      { items: [item('S'.repeat(65))] },
      'items[0].sku',
      'items[0].sku must be 1 to 64 characters of A-Z a-z 0-9 . _ : -',
    ],
    [
      'a sku with a bad character',
      { items: [item('A 1')] },
      'items[0].sku',
      'items[0].sku must be 1 to 64 characters of A-Z a-z 0-9 . _ : -',
    ],
    [
      'quantity 0',
      { items: [item(), item(), { sku: 'A', quantity: 0 }] },
      'items[2].quantity',
      'items[2].quantity must be an integer from 1 to 1000000',
    ],
    [
      'quantity 1.5',
      { items: [{ sku: 'A', quantity: 1.5 }] },
      'items[0].quantity',
      'items[0].quantity must be an integer from 1 to 1000000',
    ],
    [
      'quantity 1000001',
      { items: [{ sku: 'A', quantity: 1_000_001 }] },
      'items[0].quantity',
      'items[0].quantity must be an integer from 1 to 1000000',
    ],
    [
      'quantity "2"',
      { items: [{ sku: 'A', quantity: '2' }] },
      'items[0].quantity',
      'items[0].quantity must be an integer from 1 to 1000000',
    ],
    [
      'an orderId with bad characters',
      { items: [item()], orderId: 'a/b' },
      'orderId',
      'orderId must be 1 to 64 characters of A-Z a-z 0-9 _ -',
    ],
    [
      'a 65-character orderId',
      { items: [item()], orderId: 'o'.repeat(65) },
      'orderId',
      'orderId must be 1 to 64 characters of A-Z a-z 0-9 _ -',
    ],
    ['an unknown field', { items: [item()], note: 'hi' }, 'note', 'note is not a known field'],
    ['an array body', [item()], 'body', 'body must be a JSON object'],
    ['a string body', 'order', 'body', 'body must be a JSON object'],
    ['a null body', null, 'body', 'body must be a JSON object'],
  ])('refuses %s with a 400 naming the field', async (_, body, field, message) => {
    const response = await service.postOrder(body);
    expect(response.status).toBe(400);
    expect(response.body).toEqual(badRequest(field, message));
  });

  it('accepts exactly 100 items', async () => {
    expect((await service.postOrder({ items: manyItems(100) })).status).toBe(202);
  });

  it('refuses invalid JSON with a JSON 400 about the body', async () => {
    const response = await service.postRaw('{"items": [', 'application/json');
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expectError(response, { statusCode: 400, error: 'Bad Request', field: 'body' }, /^body .*not valid JSON/);
  });

  it('refuses an empty JSON body with a JSON 400 about the body', async () => {
    const response = await service.postRaw('', 'application/json');
    expect(response.status).toBe(400);
    expectError(response, { statusCode: 400, error: 'Bad Request', field: 'body' }, /^body /);
  });

  it('refuses a plain-text body as not a JSON object', async () => {
    const response = await service.postRaw('two of A-1 please', 'text/plain');
    expect(response.status).toBe(400);
    expect(response.body).toEqual(badRequest('body', 'body must be a JSON object'));
  });

  it('refuses a content type it cannot parse with a JSON 415', async () => {
    const response = await service.postRaw('<order/>', 'application/xml');
    expect(response.status).toBe(415);
    expectError(response, { statusCode: 415, error: 'Unsupported Media Type', field: 'Content-Type' }, /^Content-Type /);
  });

  it('refuses a body above 64 KiB with a JSON 413', async () => {
    const body = { items: [item()], padding: 'x'.repeat(65_536) };
    const response = await service.postOrder(body);
    expect(response.status).toBe(413);
    expectError(response, { statusCode: 413, error: 'Payload Too Large', field: 'body' }, /64 KiB/);
  });

  it.each([
    ['empty', ''],
    ['too long', 'k'.repeat(129)],
    ['holding a space', 'my key'],
    ['holding a slash', 'a/b'],
  ])('refuses an Idempotency-Key that is %s', async (_, key) => {
    const response = await service.postOrder({ items: [item()] }, { 'Idempotency-Key': key });
    expect(response.status).toBe(400);
    expect(response.body).toEqual(badRequest('Idempotency-Key', 'Idempotency-Key must be 1 to 128 characters of A-Z a-z 0-9 _ . : -'));
  });

  it('writes nothing to Redis for a refused request', async () => {
    const before = await service.redis.dbsize();
    await service.postOrder({ items: [item()], orderId: 'refused-1', extra: true }, { 'Idempotency-Key': 'refused-key' });
    await service.postOrder({ items: [], orderId: 'refused-2' });
    expect(await service.redis.dbsize()).toBe(before);
    expect(
      await service.redis.exists(service.keys.order('refused-1'), service.keys.order('refused-2'), service.keys.idempotency('refused-key')),
    ).toBe(0);
  });
});

describe('POST /orders acceptance', () => {
  it('answers 202 with a server-made UUID, stores the order with its body hash and puts it on the backlog', async () => {
    const items = [item('A-1', 2), item('B-2', 1)];
    const before = Date.now();
    const response = await service.postOrder({ items });
    const after = Date.now();
    expect(response.status).toBe(202);
    const orderId = response.body.orderId as string;
    expect(response.body).toEqual({ orderId, status: 'PENDING' });
    expect(orderId).toMatch(UUID);

    const stored = await service.redis.hgetall(service.keys.order(orderId));
    expect(stored.createdAt).toMatch(ISO_TIME);
    expect(stored).toEqual({
      status: 'PENDING',
      items: JSON.stringify(items),
      bodyHash: hashOrderBody({ items }),
      createdAt: stored.createdAt,
      updatedAt: stored.createdAt,
      attempts: '0',
    });
    expect(stored.bodyHash).toMatch(/^[0-9a-f]{64}$/);
    const due = Number(await service.redis.zscore(service.keys.pending, orderId));
    expect(due).toBeGreaterThanOrEqual(before + service.config.recoveryGraceMs - 1000);
    expect(due).toBeLessThanOrEqual(after + service.config.recoveryGraceMs + 1000);
  });

  it('publishes the OrderPlaced envelope on order_updates', async () => {
    const subscriber = service.server.client();
    const messages: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => messages.push(message));
    await subscriber.subscribe(service.keys.orderUpdatesChannel);
    try {
      const items = [item('ENV-1', 3)];
      const orderId = await service.placeOrder(items);
      const deadline = Date.now() + 2000;
      while (!messages.some((m) => m.includes(orderId)) && Date.now() < deadline) await sleep(10);
      const raw = messages.find((m) => m.includes(orderId));
      expect(raw).toBeDefined();
      const createdAt = await service.redis.hget(service.keys.order(orderId), 'createdAt');
      expect(JSON.parse(raw!)).toEqual({ v: 1, type: 'OrderPlaced', orderId, items, createdAt });
      expect(parseEnvelope(raw!).ok).toBe(true);
    } finally {
      subscriber.disconnect();
    }
  });

  it('logs order.accepted with the order id and the number of items', async () => {
    const orderId = await service.placeOrder([item('L-1'), item('L-2'), item('L-3')]);
    expect(service.events('order.accepted').filter((line) => line.orderId === orderId)).toEqual([
      expect.objectContaining({ level: 'info', event: 'order.accepted', orderId, items: 3, service: 'order', replica: 'order-test' }),
    ]);
  });

  it('gives identical orders placed in the same millisecond distinct ids', async () => {
    // Only Date is faked (frozen), so every order gets the same createdAt; timers and I/O run normally.
    jest.useFakeTimers({
      now: new Date('2026-03-01T12:00:00.000Z'),
      doNotFake: [
        'hrtime',
        'nextTick',
        'performance',
        'queueMicrotask',
        'setImmediate',
        'clearImmediate',
        'setInterval',
        'clearInterval',
        'setTimeout',
        'clearTimeout',
      ],
    });
    try {
      const responses = await Promise.all(Array.from({ length: 10 }, () => service.postOrder({ items: [item('SAME-MS')] })));
      const ids = responses.map((r) => r.body.orderId as string);
      expect(responses.map((r) => r.status)).toEqual(Array(10).fill(202));
      expect(new Set(ids).size).toBe(10);
      const createdAts = await Promise.all(ids.map((id) => service.redis.hget(service.keys.order(id), 'createdAt')));
      expect(new Set(createdAts)).toEqual(new Set(['2026-03-01T12:00:00.000Z']));
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('POST /orders idempotency', () => {
  it('answers a repeated Idempotency-Key with the same body with 200 and the stored order, creating nothing', async () => {
    const body = { items: [item('IDEM-1', 4)] };
    const first = await service.postOrder(body, { 'Idempotency-Key': 'idem-same' });
    expect(first.status).toBe(202);
    const count = await service.orderCount();
    const again = await service.postOrder(body, { 'Idempotency-Key': 'idem-same' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual((await service.getOrder(first.body.orderId as string)).body);
    expect(again.body).toMatchObject({ orderId: first.body.orderId, status: 'PENDING', items: body.items });
    expect(await service.orderCount()).toBe(count);
    expect(await service.redis.ttl(service.keys.idempotency('idem-same'))).toBeGreaterThan(86_000);
  });

  it('answers a repeated Idempotency-Key with a different body with 409 naming Idempotency-Key', async () => {
    const first = await service.postOrder({ items: [item('IDEM-2', 1)] }, { 'Idempotency-Key': 'idem-conflict' });
    expect(first.status).toBe(202);
    const count = await service.orderCount();
    const conflict = await service.postOrder({ items: [item('IDEM-2', 2)] }, { 'Idempotency-Key': 'idem-conflict' });
    expect(conflict.status).toBe(409);
    expect(conflict.body).toEqual({
      statusCode: 409,
      error: 'Conflict',
      field: 'Idempotency-Key',
      message: `Idempotency-Key was already used for order ${first.body.orderId as string} with a different body`,
    });
    expect(await service.orderCount()).toBe(count);
  });

  it('answers a repeated client orderId with the same body with 200 and the stored order', async () => {
    const body = { items: [item('CLIENT-1', 2)], orderId: 'client-same' };
    expect((await service.postOrder(body)).status).toBe(202);
    const again = await service.postOrder(body);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ orderId: 'client-same', status: 'PENDING', items: body.items, attempts: 0 });
  });

  it('answers a repeated client orderId with a different body with 409 naming orderId and keeps the first order', async () => {
    expect((await service.postOrder({ items: [item('CLIENT-2', 1)], orderId: 'client-conflict' })).status).toBe(202);
    const conflict = await service.postOrder({ items: [item('CLIENT-2', 5)], orderId: 'client-conflict' });
    expect(conflict.status).toBe(409);
    expect(conflict.body).toEqual({
      statusCode: 409,
      error: 'Conflict',
      field: 'orderId',
      message: 'orderId client-conflict already names an order with a different body',
    });
    expect((await service.getOrder('client-conflict')).body).toMatchObject({ items: [item('CLIENT-2', 1)] });
  });

  it('treats the same key with a different client orderId as a different body', async () => {
    expect((await service.postOrder({ items: [item()], orderId: 'key-order-1' }, { 'Idempotency-Key': 'idem-ids' })).status).toBe(202);
    const conflict = await service.postOrder({ items: [item()], orderId: 'key-order-2' }, { 'Idempotency-Key': 'idem-ids' });
    expect(conflict.status).toBe(409);
    expect(conflict.body.field).toBe('Idempotency-Key');
    expect(await service.redis.exists(service.keys.order('key-order-2'))).toBe(0);
  });

  it('replays the current status once the order is processed', async () => {
    await service.scripts.setStock('IDEM-DONE', 10);
    const body = { items: [item('IDEM-DONE', 1)] };
    const first = await service.postOrder(body, { 'Idempotency-Key': 'idem-done' });
    await service.process(first.body.orderId as string);
    const again = await service.postOrder(body, { 'Idempotency-Key': 'idem-done' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ orderId: first.body.orderId, status: OrderStatus.Reserved });
  });
});

describe('GET /orders/:id', () => {
  it('shows a pending order with exactly the public fields', async () => {
    const items = [item('GET-1', 2)];
    const orderId = await service.placeOrder(items);
    const response = await service.getOrder(orderId);
    expect(response.status).toBe(200);
    expect(response.body.createdAt).toMatch(ISO_TIME);
    expect(response.body).toEqual({
      orderId,
      status: 'PENDING',
      items,
      createdAt: response.body.createdAt,
      updatedAt: response.body.createdAt,
      attempts: 0,
    });
  });

  it('shows processedAt, processedBy and attempts once reserved', async () => {
    await service.scripts.setStock('GET-R', 5);
    const orderId = await service.placeOrder([item('GET-R', 2)]);
    expect(await service.process(orderId, 'inventory-7')).toBe('reserved');
    const { body } = await service.getOrder(orderId);
    expect(body.createdAt).toMatch(ISO_TIME);
    expect(body.processedAt).toMatch(ISO_TIME);
    expect(body).toEqual({
      orderId,
      status: 'RESERVED',
      items: [item('GET-R', 2)],
      createdAt: body.createdAt,
      updatedAt: body.processedAt,
      processedAt: body.processedAt,
      processedBy: 'inventory-7',
      attempts: 1,
    });
    expect(Object.keys(body)).toEqual(['orderId', 'status', 'items', 'createdAt', 'updatedAt', 'processedAt', 'processedBy', 'attempts']);
  });

  it('shows the reason of a rejected order', async () => {
    const orderId = await service.placeOrder([item('GET-NONE', 1)]);
    expect(await service.process(orderId)).toBe('rejected');
    expect((await service.getOrder(orderId)).body).toMatchObject({
      status: 'REJECTED',
      reason: 'insufficient_stock:GET-NONE',
      attempts: 1,
    });
  });

  it('answers 404 naming id for an unknown order', async () => {
    const response = await service.getOrder('no-such-order');
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ statusCode: 404, error: 'Not Found', field: 'id', message: 'id no-such-order names no order' });
  });

  it('answers 400 naming id for a malformed id', async () => {
    const response = await service.getOrder('bad.id');
    expect(response.status).toBe(400);
    expect(response.body).toEqual(badRequest('id', 'id must be 1 to 64 characters of A-Z a-z 0-9 _ -'));
  });

  it.each([['-1'], ['30001'], ['1.5'], ['soon']])('answers 400 naming waitMs for waitMs=%s', async (waitMs) => {
    const orderId = await service.placeOrder();
    const response = await service.getOrder(orderId, { waitMs });
    expect(response.status).toBe(400);
    expect(response.body).toEqual(badRequest('waitMs', 'waitMs must be an integer from 0 to 30000'));
  });

  it('answers an unknown route with a JSON 404', async () => {
    const response = await service.request('/nowhere');
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
  });
});
