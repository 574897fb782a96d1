import type { Redis } from 'ioredis';
import { RedisServer } from '@eo/local';
import { RedisKeys } from '@eo/contract';
import { NotAcknowledgedError, ReplicationAcks, ScriptClient } from '@eo/exactly-once';
import { OrderScripts } from '@eo/order/scripts';

let master: RedisServer;
let replica: RedisServer;
let writes: Redis;
let other: Redis;
const TIMEOUT_MS = 300;

async function waitForReplicaOnline(): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!/slave0:.*state=online/.test(await other.info('replication'))) {
    if (Date.now() > deadline) throw new Error('replica never came online');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function waitCalls(): Promise<number> {
  return Number(/cmdstat_wait:calls=(\d+)/.exec(await other.info('commandstats'))?.[1] ?? 0);
}

async function outcome<T>(call: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = Date.now();
  try {
    return { ms: Date.now() - started, value: await call };
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
}

beforeAll(async () => {
  master = await RedisServer.start();
  replica = await RedisServer.start({ replicaOf: master.port });
  writes = master.client();
  other = master.client();
  await waitForReplicaOnline();
});
afterAll(async () => {
  writes.disconnect();
  other.disconnect();
  await replica.stop();
  await master.stop();
});

describe('ReplicationAcks (WAIT after the write, on the same connection)', () => {
  it('resolves with the write once a replica holds it, and the replica does', async () => {
    const acks = new ReplicationAcks(writes, 1, TIMEOUT_MS);
    await expect(acks.write(() => writes.set('acked', 'v1'))).resolves.toBe('OK');
    const reader = replica.client();
    expect(await reader.get('acked')).toBe('v1');
    reader.disconnect();
  });

  it('covers the writes that finish while one WAIT is on the wire with one more WAIT (group commit)', async () => {
    const acks = new ReplicationAcks(writes, 1, TIMEOUT_MS);
    const before = await waitCalls();
    await Promise.all(Array.from({ length: 200 }, (_, i) => acks.write(() => writes.set(`group:${i}`, String(i)))));
    const waits = (await waitCalls()) - before;
    expect(waits).toBeGreaterThanOrEqual(1);
    expect(waits).toBeLessThan(20);
  });

  it('with 0 replicas sends no WAIT at all', async () => {
    const acks = new ReplicationAcks(writes, 0, TIMEOUT_MS);
    const before = await waitCalls();
    await acks.write(() => writes.set('unconfirmed', '1'));
    expect((await waitCalls()) - before).toBe(0);
  });

  describe('while the replica is paused', () => {
    beforeAll(() => replica.pause());
    afterAll(async () => {
      replica.resume();
      await waitForReplicaOnline();
    });

    it('rejects with NotAcknowledgedError carrying the master reply, after about the WAIT timeout', async () => {
      const acks = new ReplicationAcks(writes, 1, TIMEOUT_MS);
      const { ms, error } = await outcome(acks.write(() => writes.incr('counter')));
      expect(error).toBeInstanceOf(NotAcknowledgedError);
      expect((error as NotAcknowledgedError).result).toBe(1);
      expect((error as NotAcknowledgedError).acknowledged).toBe(0);
      expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
      // The write itself ran on the master.
      expect(await other.get('counter')).toBe('1');
    });

    it('answers every one of many concurrent writes within the timeout plus a margin, never one timeout each', async () => {
      const acks = new ReplicationAcks(writes, 1, TIMEOUT_MS);
      const spread = Array.from({ length: 30 }, async (_, i) => {
        await new Promise((r) => setTimeout(r, i * 20));
        return outcome(acks.write(() => writes.set(`paused:${i}`, String(i))));
      });
      const results = await Promise.all(spread);
      for (const result of results) {
        expect(result.error).toBeInstanceOf(NotAcknowledgedError);
        // Blocked behind the WAIT on the wire, then its own: bounded by the caller's deadline.
        expect(result.ms).toBeLessThan(2 * TIMEOUT_MS + 300);
      }
    });

    it('does not hold up commands on another connection', async () => {
      const acks = new ReplicationAcks(writes, 1, TIMEOUT_MS);
      const blocked = acks.write(() => writes.set('blocking', '1')).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 20));
      const { ms } = await outcome(other.get('blocking'));
      expect(ms).toBeLessThan(TIMEOUT_MS / 2);
      await blocked;
    });

    it('does not count a replay as confirmed when the order it names was written on another connection and never replicated', async () => {
      const keys = new RedisKeys('acks');
      const first = new OrderScripts(new ScriptClient(other), keys);
      // A connection that has written nothing yet, like another order service's.
      const fresh = master.client();
      const confirmed = new OrderScripts(
        new ScriptClient(fresh, { durability: { writes: fresh, replicas: 1, timeoutMs: TIMEOUT_MS } }),
        keys,
      );
      const input = {
        orderId: 'replayed-1',
        items: [{ sku: 'A', quantity: 1 }],
        bodyHash: 'h',
        createdAt: new Date().toISOString(),
        envelope: '{}',
        recoveryGraceMs: 60_000,
        idempotencyKey: 'k-replayed-1',
        idempotencyTtlSeconds: 60,
      };
      expect((await first.accept(input)).code).toBe('created');
      // WAIT is documented to cover its own connection's writes; the replay writes the value it
      // found back, so the WAIT after it covers the original write too.
      const replay = await outcome(confirmed.accept(input));
      expect(replay.error).toBeInstanceOf(NotAcknowledgedError);
      expect((replay.error as NotAcknowledgedError).result).toEqual({ code: 'idempotent', orderId: 'replayed-1' });
      const byId = await outcome(confirmed.accept({ ...input, idempotencyKey: undefined }));
      expect(byId.error).toBeInstanceOf(NotAcknowledgedError);
      fresh.disconnect();
    });
  });

  it('never confirms a write whose connection was replaced before its WAIT', async () => {
    const client = master.client();
    const acks = new ReplicationAcks(client, 1, TIMEOUT_MS);
    await client.ping();
    const { error } = await outcome(
      acks.write(async () => {
        const reply = await client.set('reconnected', '1');
        client.disconnect(true); // reconnects; a WAIT on the new socket would count nothing we wrote
        return reply;
      }),
    );
    expect(error).toBeInstanceOf(NotAcknowledgedError);
    expect((error as Error).message).toMatch(/connection changed/);
    client.disconnect();
  });
});
