import Redis from 'ioredis';
import { redisOptionsFromUrl } from '@eo/platform';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

async function ask<T>(client: Redis, call: (c: Redis) => Promise<T>): Promise<T> {
  client.on('error', () => undefined);
  try {
    return await call(client);
  } finally {
    client.disconnect();
  }
}

/**
 * Pauses the master of the Sentinel topology behind `url` (SIGSTOP, so it keeps its sockets: the
 * "zombie master" of a stalled VM) until the Sentinels have promoted another node, then resumes it.
 * The master must run on this machine. Resolves with the old and new master and how long it took.
 */
export async function pauseMasterPastFailover(
  url: string,
  say: (message: string) => void,
  timeoutMs = 60_000,
): Promise<{ from: string; to: string; ms: number }> {
  const options = redisOptionsFromUrl(url, { connectionName: 'failover', offlineQueue: false, commandTimeoutMs: 3000 });
  if (!options.sentinels || !options.name)
    throw new Error('--failover needs a Sentinel topology: REDIS_URL=redis+sentinel://… (REDIS_TOPOLOGY=sentinel npm start)');
  const sentinelClient = () => {
    const { host, port } = options.sentinels![0];
    return new Redis({
      host,
      port,
      password: options.sentinelPassword,
      lazyConnect: false,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
    });
  };
  const masterAddress = async (): Promise<string> => {
    const [host, port] = (await ask(sentinelClient(), (c) => c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', options.name!))) as [
      string,
      string,
    ];
    return `${host}:${port}`;
  };
  const from = await masterAddress();
  const [host, port] = from.split(':');
  if (!LOOPBACK.has(host)) throw new Error(`the master ${from} is not on this machine; --failover pauses a local process`);
  const info = await ask(
    new Redis({ host, port: Number(port), username: options.username, password: options.password, maxRetriesPerRequest: 1 }),
    (c) => c.info('server'),
  );
  const pid = Number(/^process_id:(\d+)/m.exec(info)?.[1]);
  if (!pid) throw new Error(`the master ${from} did not say its process id`);
  const started = Date.now();
  process.kill(pid, 'SIGSTOP');
  say(`failover: paused the master ${from} (pid ${pid}, SIGSTOP); waiting for the Sentinels to promote a replica…`);
  try {
    for (;;) {
      const now = await masterAddress().catch(() => from);
      if (now !== from) {
        say(
          `failover: the Sentinels promoted ${now} after ${((Date.now() - started) / 1000).toFixed(1)} s; resuming the old master (SIGCONT), which must now be demoted`,
        );
        return { from, to: now, ms: Date.now() - started };
      }
      if (Date.now() - started > timeoutMs) throw new Error(`no failover within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}
