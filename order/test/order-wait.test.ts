import { OrderStatusWatcher } from '../src/orders/order-status.watcher';
import { OrderService, item, sleep } from './support/order-service';

let service: OrderService;
let watcher: OrderStatusWatcher;

beforeAll(async () => {
  service = await OrderService.start();
  watcher = service.app.get(OrderStatusWatcher);
});
afterAll(async () => {
  await service.close();
});

/** Resolves once `n` GET requests are registered with the watcher (i.e. really waiting). */
async function untilWaiting(n: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (watcher.waiting < n) {
    if (Date.now() > deadline) throw new Error(`only ${watcher.waiting} of ${n} requests are waiting`);
    await sleep(5);
  }
}

/** A GET with `waitMs`, reporting how long it was held. */
async function timedGet(orderId: string, waitMs: number): Promise<{ status: number; body: Record<string, unknown>; elapsedMs: number }> {
  const started = Date.now();
  const response = await service.getOrder(orderId, { waitMs });
  return { status: response.status, body: response.body, elapsedMs: Date.now() - started };
}

describe('GET /orders/:id?waitMs', () => {
  it('returns as soon as another client commits the order', async () => {
    await service.scripts.setStock('WAIT-R', 10);
    const orderId = await service.placeOrder([item('WAIT-R', 1)]);
    const held = timedGet(orderId, 20_000);
    await untilWaiting(1);
    const committedAt = Date.now();
    expect(await service.process(orderId)).toBe('reserved');
    const response = await held;
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ orderId, status: 'RESERVED', attempts: 1 });
    expect(Date.now() - committedAt).toBeLessThan(2000);
    expect(watcher.waiting).toBe(0);
  });

  it('wakes on a rejection too', async () => {
    const orderId = await service.placeOrder([item('WAIT-NONE', 1)]);
    const held = timedGet(orderId, 20_000);
    await untilWaiting(1);
    expect(await service.process(orderId)).toBe('rejected');
    const response = await held;
    expect(response.body).toMatchObject({ status: 'REJECTED', reason: 'insufficient_stock:WAIT-NONE' });
    expect(response.elapsedMs).toBeLessThan(5000);
  });

  it('answers at once for an order that is already terminal', async () => {
    await service.scripts.setStock('WAIT-DONE', 10);
    const orderId = await service.placeOrder([item('WAIT-DONE', 1)]);
    await service.process(orderId);
    const response = await timedGet(orderId, 20_000);
    expect(response.body).toMatchObject({ status: 'RESERVED' });
    expect(response.elapsedMs).toBeLessThan(1000);
  });

  it('returns the pending order after waitMs when nothing happens, and forgets the waiter', async () => {
    const orderId = await service.placeOrder();
    const response = await timedGet(orderId, 300);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ orderId, status: 'PENDING' });
    expect(response.elapsedMs).toBeGreaterThanOrEqual(290);
    expect(response.elapsedMs).toBeLessThan(3000);
    expect(watcher.waiting).toBe(0);
  });

  it('answers 404 at once for an unknown order, without waiting', async () => {
    const response = await timedGet('never-placed', 20_000);
    expect(response.status).toBe(404);
    expect(response.elapsedMs).toBeLessThan(1000);
    expect(watcher.waiting).toBe(0);
  });

  it('wakes every one of many concurrent waiters on one order and only them', async () => {
    await service.scripts.setStock('WAIT-MANY', 10);
    const target = await service.placeOrder([item('WAIT-MANY', 1)]);
    const bystander = await service.placeOrder([item('WAIT-MANY', 1)]);
    const onTarget = Array.from({ length: 200 }, () => timedGet(target, 20_000));
    const onBystander = Array.from({ length: 20 }, () => timedGet(bystander, 1500));
    await untilWaiting(220);
    await service.process(target);

    const woken = await Promise.all(onTarget);
    expect(woken.every((r) => r.status === 200 && r.body.status === 'RESERVED')).toBe(true);
    expect(Math.max(...woken.map((r) => r.elapsedMs))).toBeLessThan(5000);
    expect(watcher.waiting).toBe(20);

    const timedOut = await Promise.all(onBystander);
    expect(timedOut.every((r) => r.status === 200 && r.body.status === 'PENDING')).toBe(true);
    expect(Math.min(...timedOut.map((r) => r.elapsedMs))).toBeGreaterThanOrEqual(1490);
    expect(watcher.waiting).toBe(0);
  });
});
