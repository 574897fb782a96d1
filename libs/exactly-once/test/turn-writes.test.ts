import Redis from 'ioredis';
import { readsDuring, RedisServer } from '@eo/local';
import { TurnWrites } from '../src/turn-writes';

let server: RedisServer;
let redis: Redis;
let observer: Redis;

beforeAll(async () => {
  server = await RedisServer.start();
  redis = server.client();
  observer = server.client();
  await Promise.all([redis.ping(), observer.ping()]);
});
afterAll(async () => {
  redis.disconnect();
  observer.disconnect();
  await server.stop();
});

/** Sends `count` SETs in this turn, each announced to `writes` first, as ScriptClient does. */
function setInOneTurn(writes: TurnWrites, client: Redis, count: number, prefix: string): Promise<unknown[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) => {
      writes.hold();
      return client.set(`${prefix}:${i}`, 'v');
    }),
  );
}

describe('TurnWrites', () => {
  it('sends the commands of one turn to Redis in one write, which Redis takes in one read', async () => {
    // Sent one by one, 50 SETs arrive in about 40 reads on the development machine.
    expect(await readsDuring(observer, () => setInOneTurn(new TurnWrites(redis), redis, 50, 'one-turn'))).toBe(1);
    expect(await redis.exists('one-turn:0', 'one-turn:49')).toBe(2);
  });

  it('lets the writes go at the end of every turn, so later turns are sent too', async () => {
    const writes = new TurnWrites(redis);
    const reads = await readsDuring(observer, async () => {
      await setInOneTurn(writes, redis, 10, 'turn-a');
      expect(redis.stream.writableCorked).toBe(0);
      await setInOneTurn(writes, redis, 10, 'turn-b');
    });
    expect(reads).toBe(2);
  });

  it('holds nothing before the connection is ready: ioredis queues those commands and sends them on connect', async () => {
    const late = new Redis(server.url, { lazyConnect: true });
    try {
      // The first command of a lazy client starts the connection.
      expect(late.status).toBe('wait');
      await expect(setInOneTurn(new TurnWrites(late), late, 5, 'queued')).resolves.toEqual(['OK', 'OK', 'OK', 'OK', 'OK']);
    } finally {
      late.disconnect();
    }
  });

  it('keeps working across a reconnect, holding the new socket', async () => {
    const client = server.client();
    try {
      const writes = new TurnWrites(client);
      await setInOneTurn(writes, client, 3, 'before-drop');
      const dropped = new Promise((resolve) => client.once('ready', resolve));
      client.stream.destroy();
      await dropped;
      expect(await readsDuring(observer, () => setInOneTurn(writes, client, 20, 'after-drop'))).toBe(1);
    } finally {
      client.disconnect();
    }
  });
});
