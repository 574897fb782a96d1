import type { Redis } from 'ioredis';
import { RedisKeys, type OrderItem } from '@eo/contract';
import { ENGINE_SCRIPTS, scriptSource } from '@eo/exactly-once';
import { STOCK_SCRIPTS } from '@eo/inventory/scripts';
import { ORDER_SCRIPTS } from '@eo/order/scripts';
import { readsDuring, RedisServer } from '@eo/local';
import { type Attempt, type ClaimResult, OrderLifecycleScripts } from '../support';

let server: RedisServer;
let redis: Redis;
let scripts: OrderLifecycleScripts;
const keys = new RedisKeys('t');
const NOW = '2026-01-01T00:00:00.000Z';
let seq = 0;

beforeAll(async () => {
  server = await RedisServer.start();
  redis = server.client();
  scripts = new OrderLifecycleScripts(redis, keys);
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

async function placeOrder(items: OrderItem[], extra: { orderId?: string; idempotencyKey?: string } = {}): Promise<string> {
  const orderId = extra.orderId ?? `o-${++seq}`;
  const result = await scripts.accept({
    orderId,
    items,
    bodyHash: `hash-${JSON.stringify(items)}`,
    createdAt: NOW,
    envelope: JSON.stringify({ orderId }),
    recoveryGraceMs: 60_000,
    idempotencyKey: extra.idempotencyKey,
    idempotencyTtlSeconds: 60,
  });
  expect(result.code).toBe('created');
  return orderId;
}

async function seedStock(sku: string, available: number): Promise<void> {
  await scripts.setStock(sku, available);
}

function attemptOf(orderId: string, token = `tok-${++seq}`): Attempt {
  return { orderId, token, replica: 'test-replica' };
}

async function claimed(orderId: string): Promise<{ attempt: Attempt; items: OrderItem[] }> {
  const attempt = attemptOf(orderId);
  const claim = await scripts.claim(attempt, 10_000, 3, NOW);
  if (claim.code !== 'claimed') throw new Error(`claim ${claim.code}`);
  return { attempt, items: claim.items };
}

describe('script registry', () => {
  it('loads every registered script into a real Redis', async () => {
    for (const { file } of Object.values({ ...ENGINE_SCRIPTS, ...ORDER_SCRIPTS, ...STOCK_SCRIPTS })) {
      const sha = await redis.script('LOAD', scriptSource(file));
      expect(sha).toMatch(/^[0-9a-f]{40}$/);
    }
  });
});

describe('accept-order', () => {
  it('stores the order, puts it on the backlog and publishes the envelope', async () => {
    const sub = server.client();
    const received: string[] = [];
    await sub.subscribe(keys.orderUpdatesChannel);
    sub.on('message', (_ch, msg) => received.push(msg));
    const orderId = await placeOrder([{ sku: 'A', quantity: 1 }]);
    expect(await redis.hget(keys.order(orderId), 'status')).toBe('PENDING');
    expect(await redis.zscore(keys.pending, orderId)).not.toBeNull();
    await new Promise((r) => setTimeout(r, 50));
    expect(received).toContain(JSON.stringify({ orderId }));
    sub.disconnect();
  });

  it('returns the existing order for a repeated idempotency key and writes nothing new', async () => {
    const first = await placeOrder([{ sku: 'A', quantity: 1 }], { idempotencyKey: 'k-1' });
    const again = await scripts.accept({
      orderId: 'another-id',
      items: [{ sku: 'A', quantity: 1 }],
      bodyHash: 'x',
      createdAt: NOW,
      envelope: '{}',
      recoveryGraceMs: 1,
      idempotencyKey: 'k-1',
      idempotencyTtlSeconds: 60,
    });
    expect(again).toEqual({ code: 'idempotent', orderId: first });
    expect(await redis.exists(keys.order('another-id'))).toBe(0);
    expect(await redis.ttl(keys.idempotency('k-1'))).toBeGreaterThan(0);
  });

  it('reports an existing client-chosen order id with its body hash instead of overwriting it', async () => {
    await placeOrder([{ sku: 'A', quantity: 1 }], { orderId: 'client-1' });
    const again = await scripts.accept({
      orderId: 'client-1',
      items: [{ sku: 'B', quantity: 9 }],
      bodyHash: 'different',
      createdAt: NOW,
      envelope: '{}',
      recoveryGraceMs: 1,
      idempotencyTtlSeconds: 60,
    });
    expect(again).toEqual({ code: 'exists', orderId: 'client-1', bodyHash: `hash-${JSON.stringify([{ sku: 'A', quantity: 1 }])}` });
    expect(await redis.hget(keys.order('client-1'), 'items')).toBe(JSON.stringify([{ sku: 'A', quantity: 1 }]));
  });
});

describe('claim-order', () => {
  it('lets exactly one of several concurrent claimants win and counts the attempt', async () => {
    const orderId = await placeOrder([{ sku: 'A', quantity: 1 }]);
    const results = await Promise.all([1, 2, 3].map(() => scripts.claim(attemptOf(orderId), 10_000, 3, NOW)));
    expect(results.filter((r) => r.code === 'claimed')).toHaveLength(1);
    expect(results.filter((r) => r.code === 'locked')).toHaveLength(2);
    expect(await redis.hget(keys.order(orderId), 'attempts')).toBe('1');
  });

  it('refuses a terminal order without taking the lock, and an unknown order', async () => {
    await seedStock('C1', 5);
    const orderId = await placeOrder([{ sku: 'C1', quantity: 1 }]);
    const { attempt, items } = await claimed(orderId);
    await scripts.commit(attempt, items, NOW);
    expect(await scripts.claim(attemptOf(orderId), 10_000, 3, NOW)).toEqual({ code: 'already_processed', status: 'RESERVED' });
    expect(await redis.exists(keys.lock(orderId))).toBe(0);
    expect(await scripts.claim(attemptOf('nope'), 10_000, 3, NOW)).toEqual({ code: 'not_found' });
  });

  it('fails an order whose attempts were all used by interrupted attempts', async () => {
    const orderId = await placeOrder([{ sku: 'A', quantity: 1 }]);
    await redis.hset(keys.order(orderId), 'attempts', 3);
    expect(await scripts.claim(attemptOf(orderId), 10_000, 3, NOW)).toEqual({ code: 'exhausted', attempts: 3 });
    expect(await redis.hget(keys.order(orderId), 'status')).toBe('FAILED');
    expect(await redis.zscore(keys.dead, orderId)).not.toBeNull();
    expect(await redis.zscore(keys.pending, orderId)).toBeNull();
  });
});

describe('commit-order', () => {
  it('reserves every item, sets RESERVED, leaves the backlog and deletes the lock', async () => {
    await seedStock('R1', 10);
    await seedStock('R2', 10);
    const orderId = await placeOrder([
      { sku: 'R1', quantity: 3 },
      { sku: 'R2', quantity: 4 },
      { sku: 'R1', quantity: 1 },
    ]);
    const { attempt, items } = await claimed(orderId);
    expect(await scripts.commit(attempt, items, NOW)).toEqual({ code: 'reserved', attempts: 1 });
    expect(await redis.hgetall(keys.stock('R1'))).toEqual({ available: '6', reserved: '4' });
    expect(await redis.hgetall(keys.stock('R2'))).toEqual({ available: '6', reserved: '4' });
    const order = await redis.hgetall(keys.order(orderId));
    expect(order).toMatchObject({
      status: 'RESERVED',
      processedBy: 'test-replica',
      'commitToken:PENDING': attempt.token,
      processedAt: NOW,
    });
    expect(await redis.exists(keys.lock(orderId))).toBe(0);
    expect(await redis.zscore(keys.pending, orderId)).toBeNull();
  });

  it('reserves nothing when one item is short (all or nothing) and rejects', async () => {
    await seedStock('S1', 10);
    await seedStock('S2', 1);
    const orderId = await placeOrder([
      { sku: 'S1', quantity: 5 },
      { sku: 'S2', quantity: 2 },
    ]);
    const { attempt, items } = await claimed(orderId);
    expect(await scripts.commit(attempt, items, NOW)).toEqual({ code: 'rejected', attempts: 1, sku: 'S2' });
    expect(await redis.hgetall(keys.stock('S1'))).toEqual({ available: '10', reserved: '0' });
    expect(await redis.hgetall(keys.stock('S2'))).toEqual({ available: '1', reserved: '0' });
    expect(await redis.hget(keys.order(orderId), 'status')).toBe('REJECTED');
    expect(await redis.hget(keys.order(orderId), 'reason')).toBe('insufficient_stock:S2');
  });

  it('refuses a foreign token and changes nothing', async () => {
    await seedStock('F1', 10);
    const orderId = await placeOrder([{ sku: 'F1', quantity: 1 }]);
    const { items } = await claimed(orderId);
    expect(await scripts.commit(attemptOf(orderId, 'forged'), items, NOW)).toEqual({ code: 'lease_lost', status: 'PENDING' });
    expect(await redis.hget(keys.stock('F1'), 'available')).toBe('10');
    expect(await redis.hget(keys.order(orderId), 'status')).toBe('PENDING');
  });

  it('refuses an attempt whose lock expired and was re-taken (the paused replica)', async () => {
    await seedStock('P1', 10);
    const orderId = await placeOrder([{ sku: 'P1', quantity: 1 }]);
    const stale = attemptOf(orderId);
    const claim = await scripts.claim(stale, 50, 5, NOW);
    expect(claim.code).toBe('claimed');
    await new Promise((r) => setTimeout(r, 80));
    const { attempt: fresh, items } = await claimed(orderId);
    expect(await scripts.commit(fresh, items, NOW)).toEqual({ code: 'reserved', attempts: 2 });
    expect(await scripts.commit(stale, items, NOW)).toEqual({ code: 'lease_lost', status: 'RESERVED' });
    expect(await redis.hgetall(keys.stock('P1'))).toEqual({ available: '9', reserved: '1' });
  });

  it('answers replayed to a re-run with the committing token and applies nothing twice', async () => {
    await seedStock('Q1', 10);
    const orderId = await placeOrder([{ sku: 'Q1', quantity: 2 }]);
    const { attempt, items } = await claimed(orderId);
    await scripts.commit(attempt, items, NOW);
    expect(await scripts.commit(attempt, items, NOW)).toEqual({ code: 'replayed', status: 'RESERVED', attempts: 1 });
    expect(await redis.hgetall(keys.stock('Q1'))).toEqual({ available: '8', reserved: '2' });
  });

  it('refuses stock keys that do not match the stored items', async () => {
    await seedStock('K1', 10);
    const orderId = await placeOrder([{ sku: 'K1', quantity: 1 }]);
    const { attempt } = await claimed(orderId);
    await expect(scripts.commit(attempt, [{ sku: 'OTHER', quantity: 1 }], NOW)).rejects.toThrow(/does not match sku K1/);
    expect(await redis.hget(keys.order(orderId), 'status')).toBe('PENDING');
  });
});

/** A RESERVED order of `items`, reserved by a first attempt. */
async function reservedOrder(items: OrderItem[]): Promise<string> {
  const orderId = await placeOrder(items);
  const { attempt, items: stored } = await claimed(orderId);
  expect((await scripts.commit(attempt, stored, NOW)).code).toBe('reserved');
  return orderId;
}

/** Claims the release of a cancelled order (the order is CANCELLING). */
async function claimedRelease(orderId: string): Promise<{ attempt: Attempt; items: OrderItem[] }> {
  const attempt = attemptOf(orderId);
  const claim = await scripts.claim(attempt, 10_000, 3, NOW, 'CANCELLING');
  if (claim.code !== 'claimed') throw new Error(`claim ${claim.code}`);
  return { attempt, items: claim.items };
}

describe('cancel-order', () => {
  it('cancels a PENDING order at once: CANCELLED, off the backlog, retained; a working replica finds its commit refused', async () => {
    await seedStock('X1', 5);
    const orderId = await placeOrder([{ sku: 'X1', quantity: 2 }]);
    const { attempt, items } = await claimed(orderId);
    expect(await scripts.cancel(orderId, '{}', 60_000, NOW)).toEqual({ code: 'cancelled' });
    expect(await redis.hgetall(keys.order(orderId))).toMatchObject({
      status: 'CANCELLED',
      reason: 'cancelled',
      processedBy: 'test-client',
    });
    expect(await redis.zscore(keys.pending, orderId)).toBeNull();
    expect(await redis.pttl(keys.order(orderId))).toBeGreaterThan(0);
    expect(await scripts.commit(attempt, items, NOW)).toEqual({ code: 'already_processed', status: 'CANCELLED' });
    expect(await redis.hgetall(keys.stock('X1'))).toEqual({ available: '5', reserved: '0' });
    expect(await redis.exists(keys.lock(orderId))).toBe(0);
  });

  it('turns a RESERVED order CANCELLING: kept, due on the backlog after the grace, the OrderCancelled envelope published', async () => {
    await seedStock('X2', 5);
    const orderId = await reservedOrder([{ sku: 'X2', quantity: 1 }]);
    const sub = server.client();
    const received: string[] = [];
    await sub.subscribe(keys.orderUpdatesChannel);
    sub.on('message', (_ch, msg) => received.push(msg));
    const before = Date.now();
    expect(await scripts.cancel(orderId, '{"type":"OrderCancelled"}', 60_000, NOW)).toEqual({ code: 'requested' });
    expect(await redis.hgetall(keys.order(orderId))).toMatchObject({ status: 'CANCELLING', attempts: '0', cancelRequestedAt: NOW });
    expect(await redis.pttl(keys.order(orderId))).toBe(-1);
    expect(Number(await redis.zscore(keys.pending, orderId))).toBeGreaterThanOrEqual(before + 60_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(received).toEqual(['{"type":"OrderCancelled"}']);
    expect(await redis.hgetall(keys.stock('X2'))).toEqual({ available: '4', reserved: '1' });
    sub.disconnect();
  });

  it('changes nothing for a repeat, a REJECTED or FAILED order, and answers not_found for an unknown one', async () => {
    await seedStock('X3', 5);
    const requested = await reservedOrder([{ sku: 'X3', quantity: 1 }]);
    await scripts.cancel(requested, '{}', 60_000, NOW);
    expect(await scripts.cancel(requested, '{}', 60_000, NOW)).toEqual({ code: 'unchanged', status: 'CANCELLING' });
    const cancelled = await placeOrder([{ sku: 'X3', quantity: 1 }]);
    await scripts.cancel(cancelled, '{}', 60_000, NOW);
    expect(await scripts.cancel(cancelled, '{}', 60_000, NOW)).toEqual({ code: 'unchanged', status: 'CANCELLED' });
    const rejected = await placeOrder([{ sku: 'X3', quantity: 99 }]);
    const claim = await claimed(rejected);
    expect((await scripts.commit(claim.attempt, claim.items, NOW)).code).toBe('rejected');
    expect(await scripts.cancel(rejected, '{}', 60_000, NOW)).toEqual({ code: 'unchanged', status: 'REJECTED' });
    const failed = await placeOrder([{ sku: 'X3', quantity: 1 }]);
    await redis.hset(keys.order(failed), 'attempts', 3);
    expect((await scripts.claim(attemptOf(failed), 10_000, 3, NOW)).code).toBe('exhausted');
    expect(await scripts.cancel(failed, '{}', 60_000, NOW)).toEqual({ code: 'unchanged', status: 'FAILED' });
    expect(await scripts.cancel('nope', '{}', 60_000, NOW)).toEqual({ code: 'not_found' });
    expect(await redis.hgetall(keys.stock('X3'))).toEqual({ available: '4', reserved: '1' });
  });

  it('answers a re-run of the same request (its reply was lost) as the first run did, changing nothing more', async () => {
    await seedStock('X4', 5);
    const pending = await placeOrder([{ sku: 'X4', quantity: 1 }]);
    expect(await scripts.cancel(pending, '{}', 60_000, NOW, 'req-1')).toEqual({ code: 'cancelled' });
    const stored = await redis.hgetall(keys.order(pending));
    expect(await scripts.cancel(pending, '{}', 60_000, '2030-01-01T00:00:00.000Z', 'req-1')).toEqual({ code: 'cancelled' });
    expect(await redis.hgetall(keys.order(pending))).toEqual(stored);
    expect(await scripts.cancel(pending, '{}', 60_000, NOW, 'req-2')).toEqual({ code: 'unchanged', status: 'CANCELLED' });

    const reserved = await reservedOrder([{ sku: 'X4', quantity: 2 }]);
    expect(await scripts.cancel(reserved, '{}', 60_000, NOW, 'req-3')).toEqual({ code: 'requested' });
    const backlogged = await redis.zscore(keys.pending, reserved);
    expect(await scripts.cancel(reserved, '{}', 60_000, NOW, 'req-3')).toEqual({ code: 'requested' });
    expect(await redis.zscore(keys.pending, reserved)).toBe(backlogged);
    // Released since: the re-run still says "requested" (the replica logs the release), never "cancelled".
    const { attempt, items } = await claimedRelease(reserved);
    expect((await scripts.releaseStock(attempt, items, NOW)).code).toBe('released');
    expect(await scripts.cancel(reserved, '{}', 60_000, NOW, 'req-3')).toEqual({ code: 'requested' });
    expect(await scripts.cancel(reserved, '{}', 60_000, NOW, 'req-4')).toEqual({ code: 'unchanged', status: 'CANCELLED' });
    expect(await redis.hgetall(keys.stock('X4'))).toEqual({ available: '5', reserved: '0' });
  });
});

describe('retry-order', () => {
  it('answers a re-run of the same request "retried" again, changing nothing more; a new request finds it not FAILED', async () => {
    const orderId = await placeOrder([{ sku: 'R1', quantity: 1 }]);
    await redis.hset(keys.order(orderId), 'attempts', 3);
    expect((await scripts.claim(attemptOf(orderId), 10_000, 3, NOW)).code).toBe('exhausted');
    expect(await scripts.retry(orderId, '{}', 60_000, NOW, 'retry-1')).toEqual({ code: 'retried' });
    const stored = await redis.hgetall(keys.order(orderId));
    const due = await redis.zscore(keys.pending, orderId);
    expect(await scripts.retry(orderId, '{}', 60_000, '2030-01-01T00:00:00.000Z', 'retry-1')).toEqual({ code: 'retried' });
    expect(await redis.hgetall(keys.order(orderId))).toEqual(stored);
    expect(await redis.zscore(keys.pending, orderId)).toBe(due);
    expect(await scripts.retry(orderId, '{}', 60_000, NOW, 'retry-2')).toEqual({ code: 'not_failed', status: 'PENDING' });
  });
});

describe('release-stock', () => {
  it('gives every item back, sets CANCELLED, leaves the backlog and deletes the lock', async () => {
    await seedStock('L1', 10);
    await seedStock('L2', 10);
    const orderId = await reservedOrder([
      { sku: 'L1', quantity: 3 },
      { sku: 'L2', quantity: 4 },
      { sku: 'L1', quantity: 1 },
    ]);
    await scripts.cancel(orderId, '{}', 60_000, NOW);
    const { attempt, items } = await claimedRelease(orderId);
    expect(await scripts.releaseStock(attempt, items, NOW)).toEqual({ code: 'released', attempts: 1 });
    expect(await redis.hgetall(keys.stock('L1'))).toEqual({ available: '10', reserved: '0' });
    expect(await redis.hgetall(keys.stock('L2'))).toEqual({ available: '10', reserved: '0' });
    expect(await redis.hgetall(keys.order(orderId))).toMatchObject({
      status: 'CANCELLED',
      processedBy: 'test-replica',
      'commitToken:CANCELLING': attempt.token,
    });
    expect(await redis.exists(keys.lock(orderId))).toBe(0);
    expect(await redis.zscore(keys.pending, orderId)).toBeNull();
    expect(await redis.pttl(keys.order(orderId))).toBeGreaterThan(0);
  });

  it('refuses a foreign token and a paused attempt whose lock was re-taken, and releases once', async () => {
    await seedStock('L3', 10);
    const orderId = await reservedOrder([{ sku: 'L3', quantity: 2 }]);
    await scripts.cancel(orderId, '{}', 60_000, NOW);
    const stale = attemptOf(orderId);
    expect((await scripts.claim(stale, 50, 5, NOW, 'CANCELLING')).code).toBe('claimed');
    const items = [{ sku: 'L3', quantity: 2 }];
    expect(await scripts.releaseStock(attemptOf(orderId, 'forged'), items, NOW)).toEqual({ code: 'lease_lost', status: 'CANCELLING' });
    await new Promise((r) => setTimeout(r, 80));
    const { attempt: fresh } = await claimedRelease(orderId);
    expect(await scripts.releaseStock(fresh, items, NOW)).toEqual({ code: 'released', attempts: 2 });
    expect(await scripts.releaseStock(stale, items, NOW)).toEqual({ code: 'lease_lost', status: 'CANCELLED' });
    expect(await redis.hgetall(keys.stock('L3'))).toEqual({ available: '10', reserved: '0' });
  });

  it('releases nothing when one SKU holds less than the order reserved (all or nothing), and stays due', async () => {
    await seedStock('L4', 10);
    await seedStock('L5', 10);
    const orderId = await reservedOrder([
      { sku: 'L4', quantity: 2 },
      { sku: 'L5', quantity: 3 },
    ]);
    await scripts.cancel(orderId, '{}', 60_000, NOW);
    await redis.hset(keys.stock('L5'), 'reserved', 1);
    const { attempt, items } = await claimedRelease(orderId);
    await expect(scripts.releaseStock(attempt, items, NOW)).rejects.toThrow(/L5 holds 1 reserved, less than the order's 3/);
    expect(await redis.hgetall(keys.stock('L4'))).toEqual({ available: '8', reserved: '2' });
    expect(await redis.hgetall(keys.stock('L5'))).toEqual({ available: '7', reserved: '1' });
    expect(await redis.hget(keys.order(orderId), 'status')).toBe('CANCELLING');
    expect(await redis.zscore(keys.pending, orderId)).not.toBeNull();
  });

  it('is refused for an order that is not CANCELLING: no claim for a RESERVED one, no release under a reservation claim', async () => {
    await seedStock('L6', 10);
    const reserved = await reservedOrder([{ sku: 'L6', quantity: 1 }]);
    expect(await scripts.claim(attemptOf(reserved), 10_000, 3, NOW, 'CANCELLING')).toEqual({
      code: 'already_processed',
      status: 'RESERVED',
    });
    const pending = await placeOrder([{ sku: 'L6', quantity: 1 }]);
    const { attempt, items } = await claimed(pending);
    expect(await scripts.releaseStock(attempt, items, NOW)).toEqual({ code: 'already_processed', status: 'PENDING' });
    expect(await redis.hgetall(keys.stock('L6'))).toEqual({ available: '9', reserved: '1' });
    expect(await redis.hget(keys.order(pending), 'status')).toBe('PENDING');
  });

  it('answers replayed to a re-run with the releasing token and gives nothing back twice', async () => {
    await seedStock('L7', 10);
    const orderId = await reservedOrder([{ sku: 'L7', quantity: 4 }]);
    await scripts.cancel(orderId, '{}', 60_000, NOW);
    const { attempt, items } = await claimedRelease(orderId);
    expect((await scripts.releaseStock(attempt, items, NOW)).code).toBe('released');
    expect(await scripts.releaseStock(attempt, items, NOW)).toEqual({ code: 'replayed', status: 'CANCELLED', attempts: 1 });
    expect(await redis.hgetall(keys.stock('L7'))).toEqual({ available: '10', reserved: '0' });
  });

  it('leaves the reservation replayable: a re-run of the reserving commit after the release answers replayed', async () => {
    // The reserving replica re-runs its commit until a replica confirms it; meanwhile the order
    // can be cancelled and released by another. Its re-run must still recognise its own commit.
    await seedStock('L8', 10);
    const orderId = await placeOrder([{ sku: 'L8', quantity: 3 }]);
    const { attempt: reserving, items } = await claimed(orderId);
    expect((await scripts.commit(reserving, items, NOW)).code).toBe('reserved');
    await scripts.cancel(orderId, '{}', 60_000, NOW);
    const { attempt: releasing } = await claimedRelease(orderId);
    expect((await scripts.releaseStock(releasing, items, NOW)).code).toBe('released');
    expect(await scripts.commit(reserving, items, NOW)).toMatchObject({ code: 'replayed', status: 'CANCELLED' });
    expect(await scripts.releaseStock(releasing, items, NOW)).toMatchObject({ code: 'replayed', status: 'CANCELLED' });
    expect(await redis.hgetall(keys.stock('L8'))).toEqual({ available: '10', reserved: '0' });
  });
});

describe('release-lock and extend-lock', () => {
  it('never deletes or extends a lock it does not own', async () => {
    const orderId = await placeOrder([{ sku: 'A', quantity: 1 }]);
    const { attempt } = await claimed(orderId);
    expect(await scripts.release(attemptOf(orderId, 'other'), 0)).toBe(false);
    expect(await scripts.extend(attemptOf(orderId, 'other'), 10_000)).toBe(false);
    expect(await redis.get(keys.lock(orderId))).toBe(attempt.token);
    expect(await scripts.extend(attempt, 20_000)).toBe(true);
    expect(await redis.pttl(keys.lock(orderId))).toBeGreaterThan(10_000);
    expect(await scripts.release(attempt, 0)).toBe(true);
    expect(await redis.exists(keys.lock(orderId))).toBe(0);
    expect((await scripts.due(1000)).orderIds).toContain(orderId);
  });
});

describe('fail-attempt', () => {
  it('schedules a retry with backoff, then FAILED into orders:dead after the last attempt', async () => {
    const orderId = await placeOrder([{ sku: 'A', quantity: 1 }]);
    const first = await claimed(orderId);
    expect(await scripts.fail(first.attempt, 2, 60_000, NOW, 'boom')).toEqual({ code: 'retry', attempts: 1 });
    expect((await scripts.due(1000)).orderIds).not.toContain(orderId);
    await redis.zadd(keys.pending, 0, orderId);
    const second = await claimed(orderId);
    expect(await scripts.fail(second.attempt, 2, 10, NOW, 'boom again')).toEqual({ code: 'failed', attempts: 2 });
    expect(await redis.hgetall(keys.order(orderId))).toMatchObject({ status: 'FAILED', reason: 'boom again' });
    expect(await redis.zscore(keys.dead, orderId)).not.toBeNull();
    expect(await redis.zscore(keys.pending, orderId)).toBeNull();
  });

  it('answers failed again, changing nothing, to a re-run by the token that failed the order', async () => {
    const orderId = await placeOrder([{ sku: 'A', quantity: 1 }]);
    const { attempt } = await claimed(orderId);
    expect(await scripts.fail(attempt, 1, 10, NOW, 'boom')).toEqual({ code: 'failed', attempts: 1 });
    const before = await redis.hgetall(keys.order(orderId));
    expect(await scripts.fail(attempt, 1, 10, '2026-02-02T00:00:00.000Z', 'other')).toEqual({ code: 'failed', attempts: 1 });
    expect(await redis.hgetall(keys.order(orderId))).toEqual(before);
    expect(await scripts.fail(attemptOf(orderId), 1, 10, NOW, 'boom')).toEqual({ code: 'lease_lost', status: 'FAILED' });
  });
});

describe('claim-order for a hedge (fresh only)', () => {
  it('takes work nobody started, and stands down without the lock once an attempt has started', async () => {
    const fresh = (orderId: string, token: string) =>
      scripts.queue.claim(
        { id: orderId, token, worker: 'hedger' },
        { lockTtlMs: 10_000, work: [{ status: 'PENDING', maxAttempts: 3 }], fields: [], now: NOW, fresh: true },
      );
    const untouched = await placeOrder([{ sku: 'A', quantity: 1 }]);
    expect((await fresh(untouched, 'h-1')).code).toBe('claimed');
    const started = await placeOrder([{ sku: 'A', quantity: 1 }]);
    const { attempt } = await claimed(started);
    expect(await fresh(started, 'h-2')).toEqual({ code: 'started' });
    // Its attempt failed and backs off: still not the hedge's to take.
    expect((await scripts.fail(attempt, 3, 60_000, NOW, 'boom')).code).toBe('retry');
    expect(await fresh(started, 'h-3')).toEqual({ code: 'started' });
    expect(await redis.exists(keys.lock(started))).toBe(0);
    expect(await redis.hget(keys.order(started), 'attempts')).toBe('1');
  });
});

describe('claim-order re-sent after a lost reply', () => {
  it('answers claimed again to the same token without counting another attempt', async () => {
    const orderId = await placeOrder([{ sku: 'A', quantity: 1 }]);
    const attempt = attemptOf(orderId);
    const first = await scripts.claim(attempt, 10_000, 3, NOW);
    const again = await scripts.claim(attempt, 10_000, 3, NOW);
    expect(first).toMatchObject({ code: 'claimed', attempt: 1 });
    expect(again).toEqual(first);
    expect(await scripts.claim(attemptOf(orderId), 10_000, 3, NOW)).toEqual({ code: 'locked' });
  });
});

describe('due-orders', () => {
  it('reports the backlog size and how overdue its oldest entry is, with the due ids', async () => {
    const ns = new RedisKeys('due');
    const dueScripts = new OrderLifecycleScripts(redis, ns);
    expect(await dueScripts.due(10)).toEqual({ size: 0, overdueMs: 0, orderIds: [] });
    await redis.zadd(ns.pending, Date.now() - 5_000, 'late', Date.now() + 60_000, 'future');
    const due = await dueScripts.due(10);
    expect(due.size).toBe(2);
    expect(due.overdueMs).toBeGreaterThanOrEqual(4_900);
    expect(due.orderIds).toEqual(['late']);
  });
});

describe('trace headers', () => {
  it('are stored with the order at accept and handed back by the claim', async () => {
    const trace = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
    await scripts.accept({
      orderId: 'traced',
      items: [{ sku: 'A', quantity: 1 }],
      bodyHash: 'h',
      createdAt: NOW,
      envelope: '{}',
      recoveryGraceMs: 1,
      idempotencyTtlSeconds: 60,
      trace,
    });
    expect(await scripts.claim(attemptOf('traced'), 10_000, 3, NOW)).toMatchObject({ code: 'claimed', createdAt: NOW, trace });
  });
});

describe('the per-order calls of one event-loop turn', () => {
  it('reach Redis in one write: accepts, claims and commits of ten orders take one read each', async () => {
    const observer = server.client();
    try {
      await seedStock('T1', 100);
      // Warm: every script's SHA is known to Redis, so no call needs a second EVAL round trip.
      const warm = await placeOrder([{ sku: 'T1', quantity: 1 }]);
      const won = await claimed(warm);
      await scripts.commit(won.attempt, won.items, NOW);

      const ids = Array.from({ length: 10 }, () => `turn-${++seq}`);
      expect(
        await readsDuring(observer, () => Promise.all(ids.map((orderId) => placeOrder([{ sku: 'T1', quantity: 1 }], { orderId })))),
      ).toBe(1);
      const attempts = ids.map((orderId) => attemptOf(orderId));
      let claims: ClaimResult[] = [];
      expect(
        await readsDuring(observer, async () => (claims = await Promise.all(attempts.map((a) => scripts.claim(a, 10_000, 3, NOW))))),
      ).toBe(1);
      expect(claims.map((c) => c.code)).toEqual(ids.map(() => 'claimed'));
      const commits = attempts.map((attempt) => () => scripts.commit(attempt, [{ sku: 'T1', quantity: 1 }], NOW));
      expect(await readsDuring(observer, () => Promise.all(commits.map((commit) => commit())))).toBe(1);
      expect(await redis.hget(keys.stock('T1'), 'reserved')).toBe('11');
    } finally {
      observer.disconnect();
    }
  });
});

describe('retention (ORDER_RETENTION_MS)', () => {
  const RETENTION_MS = 60_000;
  let kept: OrderLifecycleScripts;
  beforeAll(() => {
    kept = new OrderLifecycleScripts(redis, keys, { retentionMs: RETENTION_MS });
  });

  async function accepted(idempotencyKey?: string): Promise<string> {
    const orderId = `ret-${++seq}`;
    const result = await kept.accept({
      orderId,
      items: [{ sku: 'RET', quantity: 1 }],
      bodyHash: 'h',
      createdAt: NOW,
      envelope: '{}',
      recoveryGraceMs: 60_000,
      idempotencyKey,
      idempotencyTtlSeconds: 86_400,
    });
    expect(result).toEqual({ code: 'created', orderId });
    return orderId;
  }

  it('never expires a PENDING order, and starts the TTL when the commit makes it terminal', async () => {
    await seedStock('RET', 1);
    const orderId = await accepted();
    expect(await redis.pttl(keys.order(orderId))).toBe(-1);
    const attempt = attemptOf(orderId);
    const claim = await kept.claim(attempt, 10_000, 3, NOW);
    if (claim.code !== 'claimed') throw new Error(claim.code);
    expect(await redis.pttl(keys.order(orderId))).toBe(-1);
    expect((await kept.commit(attempt, claim.items, NOW)).code).toBe('reserved');
    const ttl = await redis.pttl(keys.order(orderId));
    expect(ttl).toBeGreaterThan(RETENTION_MS - 5000);
    expect(ttl).toBeLessThanOrEqual(RETENTION_MS);
    // A rejected order too (the stock is gone now).
    const second = await accepted();
    const other = attemptOf(second);
    const again = await kept.claim(other, 10_000, 3, NOW);
    if (again.code !== 'claimed') throw new Error(again.code);
    expect((await kept.commit(other, again.items, NOW)).code).toBe('rejected');
    expect(await redis.pttl(keys.order(second))).toBeGreaterThan(0);
  });

  it('gives a FAILED order the TTL, whether its work failed or its attempts ran out', async () => {
    const failed = await accepted();
    const attempt = attemptOf(failed);
    await kept.claim(attempt, 10_000, 1, NOW);
    expect(await kept.fail(attempt, 1, 10, NOW, 'boom')).toEqual({ code: 'failed', attempts: 1 });
    expect(await redis.pttl(keys.order(failed))).toBeGreaterThan(0);

    const exhausted = await accepted();
    await kept.claim(attemptOf(exhausted), 10_000, 1, NOW);
    await redis.del(keys.lock(exhausted)); // the claimant crashed and its lock expired
    expect(await kept.claim(attemptOf(exhausted), 10_000, 1, NOW)).toEqual({ code: 'exhausted', attempts: 1 });
    expect(await redis.pttl(keys.order(exhausted))).toBeGreaterThan(0);
  });

  it('never lets an idempotency key outlive its order: its TTL is at most the retention', async () => {
    const orderId = await accepted('ret-key-1');
    expect(await redis.get(keys.idempotency('ret-key-1'))).toBe(orderId);
    const ttl = await redis.pttl(keys.idempotency('ret-key-1'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(RETENTION_MS);
  });

  it('treats a key whose order has expired as unused: the replay creates a new order', async () => {
    const first = await accepted('ret-key-2');
    await redis.del(keys.order(first)); // expired (a service with a shorter retention wrote the key)
    const second = await accepted('ret-key-2');
    expect(second).not.toBe(first);
    expect(await redis.get(keys.idempotency('ret-key-2'))).toBe(second);
  });

  it('drops orders:dead entries once their orders have expired', async () => {
    const short = new OrderLifecycleScripts(redis, keys, { retentionMs: 1000 });
    const orderId = await accepted();
    const attempt = attemptOf(orderId);
    await short.claim(attempt, 10_000, 1, NOW);
    expect((await short.fail(attempt, 1, 10, NOW, 'boom')).code).toBe('failed');
    expect(await redis.zscore(keys.dead, orderId)).not.toBeNull();
    await short.due(10);
    expect(await redis.zscore(keys.dead, orderId)).not.toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await short.due(10);
    expect(await redis.zscore(keys.dead, orderId)).toBeNull();
    expect(await redis.exists(keys.order(orderId))).toBe(0);
  });
});
