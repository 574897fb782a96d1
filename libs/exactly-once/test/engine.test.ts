import { join } from 'node:path';
import type { Redis, Result } from 'ioredis';
import { RedisServer } from '@eo/local';
import {
  type Decoded,
  ExactlyOnceConsumer,
  type Logger,
  parseFenceRefusal,
  type QueueKeys,
  rendezvousRank,
  rendezvousRunnerUp,
  ScriptClient,
  sleep,
  WorkQueue,
} from '../src';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    testApplyJob(numKeys: number, ...keysAndArgs: Array<string | number>): Result<Array<string | number>, Context>;
  }
}

// The engine with a service of its own, no order code anywhere: jobs that add an amount to a total.
type Line = Record<string, unknown>;

/** A toy service's keys and channel under `prefix`, so two groups of workers never see each other's jobs. */
function space(prefix: string): { keys: QueueKeys; channel: string; total: string } {
  return {
    keys: {
      record: (id) => `${prefix}job:${id}`,
      lock: (id) => `${prefix}lock:job:${id}`,
      backlog: `${prefix}jobs:pending`,
      dead: `${prefix}jobs:dead`,
      statusChannel: `${prefix}job_status`,
      hedgeChannel: (worker) => `${prefix}job_status:${worker}`,
      workers: `${prefix}jobs:workers`,
    },
    channel: `${prefix}job_updates`,
    total: `${prefix}total`,
  };
}
const RACE = space('');
const { keys, channel: CHANNEL, total: TOTAL } = RACE;

let server: RedisServer;
let admin: Redis;
/** Until when (epoch ms) the commit replies of "lost…" jobs are lost, their writes applied. */
let repliesLostUntil = 0;
const clients: Redis[] = [];
const consumers: ExactlyOnceConsumer[] = [];

beforeAll(async () => {
  server = await RedisServer.start();
  admin = server.client();
});
afterAll(async () => {
  await Promise.all(consumers.map((c) => c.stop()));
  for (const c of clients) c.disconnect();
  admin.disconnect();
  await server.stop();
});

function client(): Redis {
  const c = server.client();
  clients.push(c);
  return c;
}

function memoryLogger(lines: Line[], bindings: Line = {}): Logger {
  const log = (fields: object, msg?: string): void => void lines.push({ ...bindings, ...fields, msg, at: Date.now() });
  return { debug: log, info: log, warn: log, error: log, child: (more) => memoryLogger(lines, { ...bindings, ...more }) };
}

function decode(raw: string): Decoded {
  const data = JSON.parse(raw) as { type?: unknown; id?: unknown };
  if (typeof data.id !== 'string') return { ok: false, error: { field: 'id', message: 'must be a string' } };
  return { ok: true, value: { type: String(data.type), id: data.id } };
}

async function startWorker(
  name: string,
  lines: Line[],
  options: { where?: ReturnType<typeof space>; claimMode?: 'race' | 'affinity'; hedgeMs?: number; retryBaseMs?: number } = {},
): Promise<ExactlyOnceConsumer> {
  const { keys, channel, total } = options.where ?? RACE;
  const scripts = new ScriptClient(client()).define({ testApplyJob: { file: join(__dirname, 'lua', 'apply-job.lua') } });
  const subscriber = client();
  // What the worker hears besides the work channel (affinity: the finishes announced to it).
  subscriber.on('message', (heardOn: string, message: string) => {
    if (heardOn !== channel) lines.push({ event: 'test.heard', worker: name, channel: heardOn, jobId: message });
  });
  const consumer = new ExactlyOnceConsumer({
    queue: new WorkQueue(scripts, keys, 60_000),
    subscriber,
    channel,
    claimMode: options.claimMode,
    hedgeMs: options.hedgeMs,
    decode,
    vocabulary: { entity: 'job', plural: 'jobs', idField: 'jobId' },
    logger: memoryLogger(lines, { worker: name }),
    worker: name,
    lockTtlMs: 1000,
    sweepIntervalMs: 100,
    sweepBatch: 50,
    maxAttempts: 3,
    retryBaseMs: options.retryBaseMs ?? 20,
    retryMaxMs: Math.max(100, options.retryBaseMs ?? 0),
    shutdownTimeoutMs: 2000,
    handlers: [
      {
        type: 'JobQueued',
        status: 'PENDING',
        fields: ['amount'],
        // A job whose id starts with "fail" fails its work every time.
        process: (job, signal) =>
          job.id.startsWith('fail') ? Promise.reject(new Error('downstream said no')) : sleep(Math.random() * 5, signal),
        commit: async (job, fence) => {
          const result = await scripts.write((redis) =>
            redis
              .testApplyJob(4, ...fence.keys, total, ...fence.args, Number(job.fields.amount))
              .then(
                (reply) =>
                  parseFenceRefusal(reply) ?? { code: 'committed', status: 'DONE', outcome: 'applied', attempts: Number(reply[1]) },
              ),
          );
          // A job whose id starts with "lost" has every commit reply lost until `repliesLostUntil`.
          if (job.id.startsWith('lost') && Date.now() < repliesLostUntil) throw new Error('connection closed before the reply');
          return result;
        },
      },
    ],
  });
  await consumer.start();
  consumers.push(consumer);
  return consumer;
}

/** What a producer does in one step: the record, its backlog entry (due after `graceMs`), the message. */
async function queueJob(id: string, amount: number, graceMs: number, publish = true, where = RACE): Promise<void> {
  const { keys, channel } = where;
  const now = await admin.time();
  const nowMs = Number(now[0]) * 1000 + Math.floor(Number(now[1]) / 1000);
  const multi = admin
    .multi()
    .hset(keys.record(id), 'status', 'PENDING', 'attempts', 0, 'createdAt', new Date().toISOString(), 'amount', amount)
    .zadd(keys.backlog, nowMs + graceMs, id);
  if (publish) multi.publish(channel, JSON.stringify({ type: 'JobQueued', id }));
  await multi.exec();
}

async function until(what: string, predicate: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('the engine with a service of its own (no order code)', () => {
  it('applies every job exactly once across three workers, including jobs nobody heard announced', async () => {
    const lines: Line[] = [];
    await Promise.all(['w0', 'w1', 'w2'].map((name) => startWorker(name, lines)));
    const ids = Array.from({ length: 150 }, (_, i) => `j${i}`);
    // Every third job is never published: only the backlog sweep can find it.
    for (const [i, id] of ids.entries()) await queueJob(id, i + 1, 200, i % 3 !== 0);
    const expected = ids.reduce((sum, _, i) => sum + i + 1, 0);
    await until('every job DONE', async () => (await admin.zcard(keys.backlog)) === 0);
    for (const id of ids) expect(await admin.hget(keys.record(id), 'status')).toBe('DONE');
    expect(Number(await admin.get(TOTAL))).toBe(expected);
    const processed = lines.filter((l) => l.event === 'job.processed');
    expect(processed).toHaveLength(ids.length);
    expect(new Set(processed.map((l) => l.jobId)).size).toBe(ids.length);
    expect(lines.filter((l) => l.event === 'job.recovered').length).toBeGreaterThanOrEqual(ids.length / 3);

    // A duplicate announcement after the fact changes nothing.
    await admin.publish(CHANNEL, JSON.stringify({ type: 'JobQueued', id: 'j1' }));
    await sleep(300);
    expect(Number(await admin.get(TOTAL))).toBe(expected);
    expect(lines.filter((l) => l.event === 'job.processed')).toHaveLength(ids.length);
  });

  it('re-runs a commit whose replies are lost for longer than the lock TTL until one arrives, and logs its outcome once', async () => {
    const where = space('lost:');
    const lines: Line[] = [];
    await startWorker('w-lost', lines, { where });
    // Three times the lock TTL (1 s): the lock is long gone when the first reply gets through.
    repliesLostUntil = Date.now() + 3000;
    await queueJob('lost-1', 7, 60_000, true, where);
    await until(
      'job.processed of lost-1',
      () => Promise.resolve(lines.some((l) => l.event === 'job.processed' && l.jobId === 'lost-1')),
      10_000,
    );
    const ofJob = lines.filter((l) => l.jobId === 'lost-1');
    expect(ofJob.filter((l) => l.event === 'job.processed')).toEqual([expect.objectContaining({ replayed: true, outcome: 'done' })]);
    expect(ofJob.filter((l) => l.event === 'job.error')).toEqual([]);
    expect(ofJob.filter((l) => l.msg === 'commit call failed; re-running it with the same token').length).toBeGreaterThan(3);
    expect(await admin.get(where.total)).toBe('7');
  });

  it('drops a message of a type no handler takes, naming the field', async () => {
    const lines: Line[] = [];
    await startWorker('w-invalid', lines);
    await admin.publish(CHANNEL, JSON.stringify({ type: 'Unknown', id: 'x' }));
    await until('message.invalid', () => Promise.resolve(lines.some((l) => l.event === 'message.invalid' && l.field === 'type')));
  });
});

describe('affinity claiming (claimMode: affinity)', () => {
  it('has exactly one worker claim each announced job while all are alive: no lost claim, no hedge', async () => {
    const where = space('aff1:');
    const lines: Line[] = [];
    const names = ['a0', 'a1', 'a2'];
    // A job finishes well within the hedge delay, so every hedge armed must be called off in time.
    const HEDGE = 1500;
    await Promise.all(names.map((name) => startWorker(name, lines, { where, claimMode: 'affinity', hedgeMs: HEDGE })));
    await until('all three heartbeats', async () => (await admin.zcard(where.keys.workers)) === 3);
    await sleep(1100); // every worker's next heartbeat has seen the other two
    const ids = Array.from({ length: 120 }, (_, i) => `aj${i}`);
    // A grace beyond the test: only the announcements can get these done.
    for (const [i, id] of ids.entries()) await queueJob(id, i + 1, 60_000, true, where);
    await until('every job DONE', async () => (await admin.zcard(where.keys.backlog)) === 0);
    // Past the hedge delay: a hedge that no finish called off would have claimed (and been skipped) by now.
    await sleep(HEDGE + 300);
    expect(Number(await admin.get(where.total))).toBe(ids.reduce((sum, _, i) => sum + i + 1, 0));
    const claimed = lines.filter((l) => l.event === 'job.claimed');
    expect(claimed).toHaveLength(ids.length);
    expect(lines.filter((l) => l.event === 'job.skipped')).toEqual([]);
    expect(claimed.every((l) => l.source === 'message')).toBe(true);
    // Rendezvous hashing spreads the jobs over every worker.
    const perWorker = names.map((name) => claimed.filter((l) => l.worker === name).length);
    for (const n of perWorker) expect(n).toBeGreaterThan(ids.length / 6);
    // Each finish was announced to one worker only, the one ranked second (holding the hedge); no
    // worker listens on the status channel, so Redis delivers a finish twice whatever the number
    // of workers (to that worker, and to whoever watches statuses).
    const heard = lines.filter((l) => l.event === 'test.heard');
    expect(heard.map((l) => l.jobId).sort()).toEqual([...ids].sort());
    for (const line of heard) {
      expect(line.worker).toBe(rendezvousRunnerUp(String(line.jobId), names));
      expect(line.channel).toBe(where.keys.hedgeChannel(String(line.worker)));
    }
    expect(await admin.pubsub('NUMSUB', where.keys.statusChannel)).toEqual([where.keys.statusChannel, 0]);
  });

  it('names as runner-up the worker ranked second, as every worker ranks them', () => {
    const workers = ['w-a', 'w-b', 'w-c', 'w-d'];
    for (let i = 0; i < 2000; i++) {
      const id = `r${i}`;
      expect(rendezvousRank(id, rendezvousRunnerUp(id, workers)!, workers)).toBe(1);
    }
    expect(rendezvousRunnerUp('r1', ['only'])).toBeUndefined();
  });

  it('has the next worker in rank claim a job whose owner never does, one hedge delay after the announcement', async () => {
    const where = space('aff2:');
    const lines: Line[] = [];
    const HEDGE = 300;
    await Promise.all(['b0', 'b1'].map((name) => startWorker(name, lines, { where, claimMode: 'affinity', hedgeMs: HEDGE })));
    // A worker that is alive by its heartbeat (here, far into the future) but never claims: a paused or wedged owner.
    await admin.zadd(where.keys.workers, Date.now() + 600_000, 'ghost');
    await sleep(1100);
    const live = ['b0', 'b1', 'ghost'];
    const ghostOwned = Array.from({ length: 200 }, (_, i) => `bj${i}`)
      .filter((id) => rendezvousRank(id, 'ghost', live) === 0)
      .slice(0, 10);
    expect(ghostOwned).toHaveLength(10);
    const started = Date.now();
    for (const id of ghostOwned) await queueJob(id, 1, 60_000, true, where);
    await until("the ghost's jobs DONE", async () => (await admin.zcard(where.keys.backlog)) === 0);
    const claimed = lines.filter((l) => l.event === 'job.claimed');
    expect(claimed.map((l) => l.jobId).sort()).toEqual([...ghostOwned].sort());
    // Each was claimed by its second-ranked worker, as a hedge, not before one hedge delay.
    for (const line of claimed) {
      const id = String(line.jobId);
      expect(line.source).toBe('hedge');
      expect(rendezvousRank(id, String(line.worker), live)).toBe(1);
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(HEDGE);
    expect(lines.filter((l) => l.event === 'job.skipped')).toEqual([]);
  });

  it('ranks every live worker for an id exactly once, the same whichever worker computes it', () => {
    const workers = ['inventory-0', 'inventory-1', 'inventory-2', 'inventory-3', 'inventory-4'];
    const owners = new Map<string, number>();
    for (let i = 0; i < 5000; i++) {
      const id = `order-${i}`;
      const ranks = workers.map((worker) => rendezvousRank(id, worker, workers));
      expect([...ranks].sort()).toEqual([0, 1, 2, 3, 4]);
      const owner = workers[ranks.indexOf(0)];
      owners.set(owner, (owners.get(owner) ?? 0) + 1);
      // Removing a worker that is not the owner leaves the owner in place (minimal disruption).
      const other = workers.find((w) => w !== owner)!;
      const fewer = workers.filter((w) => w !== other);
      expect(rendezvousRank(id, owner, fewer)).toBe(0);
    }
    // About 1,000 each: none gets less than 800 or more than 1,200.
    for (const n of owners.values()) expect(n).toBeGreaterThan(800);
    for (const n of owners.values()) expect(n).toBeLessThan(1200);
  });

  it('never lets a hedge retry a failed attempt early: retries wait out the backoff on the backlog', async () => {
    const where = space('aff3:');
    const lines: Line[] = [];
    // Hedges every 30 ms, a first backoff of 400–800 ms: a hedge that ignored the backoff would retry at once.
    await Promise.all(
      ['c0', 'c1', 'c2'].map((name) => startWorker(name, lines, { where, claimMode: 'affinity', hedgeMs: 30, retryBaseMs: 800 })),
    );
    await sleep(1100);
    await queueJob('fail-1', 1, 60_000, true, where);
    await until('the second attempt', () => Promise.resolve(lines.some((l) => l.event === 'job.claimed' && l.attempt === 2)), 10_000);
    const first = lines.find((l) => l.event === 'job.retry_scheduled' && l.attempt === 1)!;
    const second = lines.find((l) => l.event === 'job.claimed' && l.attempt === 2)!;
    expect(second.source).toBe('sweep');
    // The hedges found the first attempt started and stood down; no retry came from a hedge.
    expect(lines.filter((l) => l.event === 'job.skipped' && l.reason === 'started').length).toBeGreaterThan(0);
    expect(lines.filter((l) => l.event === 'job.claimed' && l.source === 'hedge' && Number(l.attempt) >= 2)).toEqual([]);
    expect(Number(second.at) - Number(first.at)).toBeGreaterThanOrEqual(Number(first.backoffMs) - 50);
  });
});
