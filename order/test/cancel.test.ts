import { parseEnvelope } from '@eo/contract';
import { OrderStatusWatcher } from '../src/orders/order-status.watcher';
import { OrderService, item, sleep, type ApiResponse } from './support/order-service';

let service: OrderService;

beforeAll(async () => {
  service = await OrderService.start({ REPLICA_NAME: 'order-7' });
});
afterAll(async () => {
  await service.close();
});

/** A RESERVED order of `quantity` of `sku`, with `available` seeded first. */
async function reservedOrder(sku: string, quantity: number, available = 10): Promise<string> {
  await service.scripts.setStock(sku, available);
  const orderId = await service.placeOrder([item(sku, quantity)]);
  expect(await service.process(orderId)).toBe('reserved');
  return orderId;
}

async function stock(sku: string): Promise<Record<string, string>> {
  return service.redis.hgetall(service.keys.stock(sku));
}

function expectError(response: ApiResponse, statusCode: number, error: string, field: string, message: RegExp): void {
  const { message: actual, ...rest } = response.body;
  expect({ status: response.status, ...rest }).toEqual({ status: statusCode, statusCode, error, field });
  expect(actual).toMatch(message);
}

describe('POST /orders/:id/cancel of a PENDING order', () => {
  it('cancels it at once: 200 with the CANCELLED order, nothing reserved, off the backlog, one order.cancelled', async () => {
    await service.scripts.setStock('CP-1', 5);
    const orderId = await service.placeOrder([item('CP-1', 2)]);
    const response = await service.cancelOrder(orderId);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ orderId, status: 'CANCELLED', reason: 'cancelled', processedBy: 'order-7', attempts: 0 });
    expect(await service.redis.zscore(service.keys.pending, orderId)).toBeNull();
    expect(await stock('CP-1')).toEqual({ available: '5', reserved: '0' });
    expect(service.events('order.cancelled').filter((line) => line.orderId === orderId)).toEqual([
      expect.objectContaining({ orderId, released: false, processedBy: 'order-7', outcome: 'cancelled' }) as unknown,
    ]);
  });

  it('refuses the commit of a replica that was working on it: the fence sees CANCELLED and nothing is reserved', async () => {
    await service.scripts.setStock('CP-2', 5);
    const orderId = await service.placeOrder([item('CP-2', 2)]);
    const attempt = { orderId, token: 'working-replica', replica: 'inventory-1' };
    const now = new Date().toISOString();
    const claim = await service.scripts.claim(attempt, 10_000, 3, now);
    if (claim.code !== 'claimed') throw new Error(`claim ${claim.code}`);
    expect((await service.cancelOrder(orderId)).status).toBe(200);
    expect(await service.scripts.commit(attempt, claim.items, now)).toEqual({ code: 'already_processed', status: 'CANCELLED' });
    expect(await stock('CP-2')).toEqual({ available: '5', reserved: '0' });
    expect((await service.getOrder(orderId)).body).toMatchObject({ status: 'CANCELLED' });
  });

  it('answers a repeat with 200 and the same order, logging nothing twice', async () => {
    const orderId = await service.placeOrder([item('CP-3', 1)]);
    const first = await service.cancelOrder(orderId, { headers: { 'Idempotency-Key': 'cancel-cp-3' } });
    const again = await service.cancelOrder(orderId, { headers: { 'Idempotency-Key': 'cancel-cp-3' } });
    const without = await service.cancelOrder(orderId);
    expect([first.status, again.status, without.status]).toEqual([200, 200, 200]);
    expect(again.body).toEqual(first.body);
    expect(without.body).toEqual(first.body);
    expect(service.events('order.cancelled').filter((line) => line.orderId === orderId)).toHaveLength(1);
  });
});

describe('POST /orders/:id/cancel of a RESERVED order', () => {
  it('answers 202 cancel requested, keeps the order, backlogs the release and publishes OrderCancelled', async () => {
    const orderId = await reservedOrder('CR-1', 3);
    const sub = service.server.client();
    const received: string[] = [];
    await sub.subscribe(service.keys.orderUpdatesChannel);
    sub.on('message', (_channel, message) => received.push(message));
    const response = await service.cancelOrder(orderId, { body: '{}', contentType: 'application/json' });
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ orderId, status: 'RESERVED', cancel: 'requested' });
    expect(await service.redis.hget(service.keys.order(orderId), 'status')).toBe('CANCELLING');
    expect(await service.redis.zscore(service.keys.pending, orderId)).not.toBeNull();
    expect(await service.redis.pttl(service.keys.order(orderId))).toBe(-1);
    expect(await stock('CR-1')).toEqual({ available: '7', reserved: '3' });
    await sleep(50);
    sub.disconnect();
    expect(received).toHaveLength(1);
    const envelope = parseEnvelope(received[0]);
    expect(envelope.ok && envelope.value).toMatchObject({ v: 1, type: 'OrderCancelled', orderId, items: [item('CR-1', 3)] });
    expect(service.events('order.cancel_requested').filter((line) => line.orderId === orderId)).toHaveLength(1);
  });

  it('shows RESERVED with cancel "requested" until a replica releases it, then CANCELLED with the stock back', async () => {
    const orderId = await reservedOrder('CR-2', 4);
    expect((await service.cancelOrder(orderId)).status).toBe(202);
    const during = await service.getOrder(orderId);
    expect(during.body).toMatchObject({ orderId, status: 'RESERVED', cancel: 'requested' });
    expect(await service.release(orderId, 'inventory-2')).toBe('released');
    const after = await service.getOrder(orderId);
    expect(after.body).toMatchObject({ orderId, status: 'CANCELLED', processedBy: 'inventory-2' });
    expect(after.body.cancel).toBeUndefined();
    expect(await stock('CR-2')).toEqual({ available: '10', reserved: '0' });
  });

  it('answers repeats with 200 and the order as it is, publishing nothing more', async () => {
    const orderId = await reservedOrder('CR-3', 1);
    expect((await service.cancelOrder(orderId)).status).toBe(202);
    const sub = service.server.client();
    const received: string[] = [];
    await sub.subscribe(service.keys.orderUpdatesChannel);
    sub.on('message', (_channel, message) => received.push(message));
    const during = await service.cancelOrder(orderId);
    expect(during.status).toBe(200);
    expect(during.body).toMatchObject({ orderId, status: 'RESERVED', cancel: 'requested' });
    await service.release(orderId);
    const after = await service.cancelOrder(orderId, { headers: { 'Idempotency-Key': 'again' } });
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ orderId, status: 'CANCELLED' });
    await sleep(50);
    sub.disconnect();
    expect(received).toEqual([]);
    expect(await stock('CR-3')).toEqual({ available: '10', reserved: '0' });
  });

  it('wakes a GET ?waitMs held over the cancellation on CANCELLED, not on the RESERVED it already was', async () => {
    const orderId = await reservedOrder('CR-4', 2);
    expect((await service.cancelOrder(orderId)).status).toBe(202);
    const watcher = service.app.get(OrderStatusWatcher);
    const held = service.getOrder(orderId, { waitMs: 20_000 });
    const deadline = Date.now() + 5000;
    while (watcher.waiting < 1 && Date.now() < deadline) await sleep(5);
    expect(watcher.waiting).toBe(1);
    expect(await service.release(orderId)).toBe('released');
    expect((await held).body).toMatchObject({ orderId, status: 'CANCELLED' });
  });
});

describe('POST /orders/:id/cancel refusals', () => {
  it('answers 409 naming id for a REJECTED order and changes nothing', async () => {
    const orderId = await service.placeOrder([item('CX-NONE', 1)]);
    expect(await service.process(orderId)).toBe('rejected');
    expectError(
      await service.cancelOrder(orderId),
      409,
      'Conflict',
      'id',
      /is REJECTED: only a PENDING or RESERVED order can be cancelled/,
    );
    expect(await service.redis.hget(service.keys.order(orderId), 'status')).toBe('REJECTED');
  });

  it('answers 409 naming id for a FAILED order', async () => {
    const orderId = await service.placeOrder([item('CX-F', 1)]);
    expect(await service.fail(orderId)).toBe('failed');
    expectError(await service.cancelOrder(orderId), 409, 'Conflict', 'id', /is FAILED/);
  });

  it('answers 404 naming id for an unknown order and 400 for a malformed id', async () => {
    expectError(await service.cancelOrder('no-such-order'), 404, 'Not Found', 'id', /^id no-such-order names no order$/);
    expectError(await service.cancelOrder('bad.id'), 400, 'Bad Request', 'id', /^id must be 1 to 64 characters/);
  });

  it('answers 400 naming body for a body with fields, and Idempotency-Key for a malformed key, cancelling nothing', async () => {
    const orderId = await service.placeOrder([item('CX-B', 1)]);
    expectError(
      await service.cancelOrder(orderId, { body: '{"reason":"changed my mind"}', contentType: 'application/json' }),
      400,
      'Bad Request',
      'body',
      /^body must be absent or \{\}/,
    );
    expectError(await service.cancelOrder(orderId, { body: '[]', contentType: 'application/json' }), 400, 'Bad Request', 'body', /^body /);
    expectError(
      await service.cancelOrder(orderId, { headers: { 'Idempotency-Key': 'has space' } }),
      400,
      'Bad Request',
      'Idempotency-Key',
      /^Idempotency-Key must be/,
    );
    expect(await service.redis.hget(service.keys.order(orderId), 'status')).toBe('PENDING');
  });
});

describe('POST /orders/:id/cancel when the replicas do not confirm the write (REDIS_WAIT_REPLICAS)', () => {
  let unconfirmed: OrderService;

  beforeAll(async () => {
    // No replica is attached, so no write is ever confirmed (and readiness says so).
    unconfirmed = await OrderService.start({ REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '100' }, 503);
  });
  afterAll(async () => {
    await unconfirmed.close();
  });

  it('answers 503 saying the change may stand, and still logs the order.cancelled the write made', async () => {
    const orderId = 'unconfirmed-1';
    const accepted = await unconfirmed.scripts.accept({
      orderId,
      items: [item('CU-1', 1)],
      bodyHash: 'h',
      createdAt: new Date().toISOString(),
      envelope: '{}',
      recoveryGraceMs: 60_000,
      idempotencyTtlSeconds: 60,
    });
    expect(accepted.code).toBe('created');
    const response = await unconfirmed.cancelOrder(orderId);
    expect(response.status).toBe(503);
    expect(response.body.message).toMatch(/did not confirm the change in time; it may have been made/);
    expect(await unconfirmed.redis.hget(unconfirmed.keys.order(orderId), 'status')).toBe('CANCELLED');
    expect(unconfirmed.events('order.cancelled')).toEqual([
      expect.objectContaining({ orderId, released: false, confirmed: false }) as unknown,
    ]);
    const repeat = await unconfirmed.cancelOrder(orderId);
    expect(repeat.status).toBe(503);
    expect(unconfirmed.events('order.cancelled')).toHaveLength(1);
  });
});

describe('POST /orders/:id/cancel whose reply is lost (the connection drops after the script ran, as in a failover)', () => {
  let cut: OrderService;

  beforeAll(async () => {
    cut = await OrderService.start({}, 200, { cutReplies: true });
  });
  afterAll(async () => {
    await cut.close();
  });

  it('re-runs the script with the same token: 200 CANCELLED and exactly one order.cancelled', async () => {
    const orderId = await cut.placeOrder([item('CL-1', 1)], { orderId: 'lost-cancel-1' });
    // Redis unreachable for a while after the cut: ioredis gives up the command, the service re-runs it.
    cut.cutter?.arm([orderId, 'OrderCancelled'], { refuseMs: 1500 });
    const response = await cut.cancelOrder(orderId);
    expect(cut.cutter?.cut).toBe(1);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ orderId, status: 'CANCELLED' });
    expect(cut.events('order.cancelled').filter((line) => line.orderId === orderId)).toEqual([
      expect.objectContaining({ orderId, released: false }) as unknown,
    ]);
    expect(cut.events('order.error').filter((line) => line.orderId === orderId).length).toBeGreaterThan(0);
    // A client's own repeat is a new request: it finds the order CANCELLED and logs nothing more.
    expect((await cut.cancelOrder(orderId)).status).toBe(200);
    expect(cut.events('order.cancelled').filter((line) => line.orderId === orderId)).toHaveLength(1);
  });

  it('answers 503 when Redis stays away past the re-runs, and logs the order.cancelled once a background re-run gets the answer', async () => {
    const orderId = await cut.placeOrder([item('CL-3', 1)], { orderId: 'lost-cancel-3' });
    cut.cutter?.arm([orderId, 'OrderCancelled'], { refuseMs: 11_000 });
    const response = await cut.cancelOrder(orderId);
    expect(response.status).toBe(503);
    expect(response.body.message).toMatch(/may or may not have been made/);
    expect(cut.events('order.cancelled').filter((line) => line.orderId === orderId)).toHaveLength(0);
    for (let i = 0; i < 100 && !cut.events('order.cancelled').some((line) => line.orderId === orderId); i++) await sleep(100);
    expect(cut.events('order.cancelled').filter((line) => line.orderId === orderId)).toEqual([
      expect.objectContaining({ orderId, released: false }) as unknown,
    ]);
    expect(await cut.redis.hget(cut.keys.order(orderId), 'status')).toBe('CANCELLED');
  }, 30_000);

  it("answers ioredis's re-send of a RESERVED order's request as the first run: 202 requested, the release backlogged once", async () => {
    await cut.scripts.setStock('CL-2', 3);
    const orderId = await cut.placeOrder([item('CL-2', 2)], { orderId: 'lost-cancel-2' });
    expect(await cut.process(orderId)).toBe('reserved');
    const cutsBefore = cut.cutter?.cut ?? 0;
    cut.cutter?.arm([orderId, 'OrderCancelled']);
    const response = await cut.cancelOrder(orderId);
    expect(cut.cutter?.cut).toBe(cutsBefore + 1);
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ orderId, status: 'RESERVED', cancel: 'requested' });
    expect(cut.events('order.cancel_requested').filter((line) => line.orderId === orderId)).toHaveLength(1);
    expect(await cut.release(orderId)).toBe('released');
    expect(await cut.redis.hgetall(cut.keys.stock('CL-2'))).toEqual({ available: '3', reserved: '0' });
  });
});
