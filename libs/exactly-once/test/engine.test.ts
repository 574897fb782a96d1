import { join } from 'node:path';
import type { Redis, Result } from 'ioredis';
import { RedisServer } from '@eo/local';
import { type Decoded, ExactlyOnceConsumer, type Logger, parseFenceRefusal, type QueueKeys, ScriptClient, sleep, WorkQueue } from '../src';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    testApplyJob(numKeys: number, ...keysAndArgs: Array<string | number>): Result<Array<string | number>, Context>;
  }
}

// The engine with a service of its own, no order code anywhere: jobs that add an amount to a total.
type Line = Record<string, unknown>;

const keys: QueueKeys = {
  record: (id) => `job:${id}`,
  lock: (id) => `lock:job:${id}`,
  backlog: 'jobs:pending',
  dead: 'jobs:dead',
  statusChannel: 'job_status',
};
const CHANNEL = 'job_updates';
const TOTAL = 'total';

let server: RedisServer;
let admin: Redis;
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
  const log = (fields: object, msg?: string): void => void lines.push({ ...bindings, ...fields, msg });
  return { debug: log, info: log, warn: log, error: log, child: (more) => memoryLogger(lines, { ...bindings, ...more }) };
}

function decode(raw: string): Decoded {
  const data = JSON.parse(raw) as { type?: unknown; id?: unknown };
  if (typeof data.id !== 'string') return { ok: false, error: { field: 'id', message: 'must be a string' } };
  return { ok: true, value: { type: String(data.type), id: data.id } };
}

async function startWorker(name: string, lines: Line[]): Promise<ExactlyOnceConsumer> {
  const scripts = new ScriptClient(client()).define({ testApplyJob: { file: join(__dirname, 'lua', 'apply-job.lua') } });
  const consumer = new ExactlyOnceConsumer({
    queue: new WorkQueue(scripts, keys, 60_000),
    subscriber: client(),
    channel: CHANNEL,
    decode,
    vocabulary: { entity: 'job', plural: 'jobs', idField: 'jobId' },
    logger: memoryLogger(lines, { worker: name }),
    worker: name,
    lockTtlMs: 1000,
    sweepIntervalMs: 100,
    sweepBatch: 50,
    maxAttempts: 3,
    retryBaseMs: 20,
    retryMaxMs: 100,
    shutdownTimeoutMs: 2000,
    handlers: [
      {
        type: 'JobQueued',
        status: 'PENDING',
        fields: ['amount'],
        process: (_job, signal) => sleep(Math.random() * 5, signal),
        commit: (job, fence) =>
          scripts.write((redis) =>
            redis
              .testApplyJob(4, ...fence.keys, TOTAL, ...fence.args, Number(job.fields.amount))
              .then(
                (reply) =>
                  parseFenceRefusal(reply) ?? { code: 'committed', status: 'DONE', outcome: 'applied', attempts: Number(reply[1]) },
              ),
          ),
      },
    ],
  });
  await consumer.start();
  consumers.push(consumer);
  return consumer;
}

/** What a producer does in one step: the record, its backlog entry (due after `graceMs`), the message. */
async function queueJob(id: string, amount: number, graceMs: number, publish = true): Promise<void> {
  const now = await admin.time();
  const nowMs = Number(now[0]) * 1000 + Math.floor(Number(now[1]) / 1000);
  const multi = admin
    .multi()
    .hset(keys.record(id), 'status', 'PENDING', 'attempts', 0, 'createdAt', new Date().toISOString(), 'amount', amount)
    .zadd(keys.backlog, nowMs + graceMs, id);
  if (publish) multi.publish(CHANNEL, JSON.stringify({ type: 'JobQueued', id }));
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

  it('drops a message of a type no handler takes, naming the field', async () => {
    const lines: Line[] = [];
    await startWorker('w-invalid', lines);
    await admin.publish(CHANNEL, JSON.stringify({ type: 'Unknown', id: 'x' }));
    await until('message.invalid', () => Promise.resolve(lines.some((l) => l.event === 'message.invalid' && l.field === 'type')));
  });
});
