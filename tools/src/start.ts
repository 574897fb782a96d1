/**
 * `npm start`: the whole system on this machine. Redis from `REDIS_URL`, or a private
 * `redis-server` (AOF on, data in `.data/redis`), or with `REDIS_TOPOLOGY=sentinel` a private
 * master, replica and three Sentinels (fresh data each time; writes confirmed by the replica); the
 * order service on :3001 and `INVENTORY_REPLICAS` inventory replicas on :3002…, their output
 * prefixed with their names. Ctrl-C stops the services (SIGTERM, drained) and then Redis.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { ConfigError, createRedis, credentialsOf, loadCommonConfig, maskRedisUrl } from '@eo/platform';
import { REDIS_SERVER_BIN, RedisServer, repoRoot, SentinelTopology, serviceEntry, SystemHarness } from '@eo/local';
import { dataDirInUse, localDataDir, redisPidFile, removeLocalSystem, writeLocalSystem } from './local-system';
import { logFormatter } from './log-format';

const root = repoRoot(__dirname);
const color = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
const PALETTE = [36, 32, 33, 35, 34, 96, 92, 93, 95, 94];

function paint(code: number, text: string): string {
  return color ? `\x1b[${code}m${text}\x1b[0m` : text;
}

/**
 * Set once stdout or stderr is a broken pipe (`npm start | tee run.log` whose tee died): nothing
 * more is printed there, and the system is stopped as on a signal (see {@link main}).
 */
let outputGone = false;
let onOutputGone: () => void = () => undefined;
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', () => {
    if (outputGone) return;
    outputGone = true;
    onOutputGone();
  });
}

function print(stream: NodeJS.WriteStream, text: string): void {
  if (!outputGone) stream.write(text);
}

/** Resolves once everything written to stdout and stderr so far has been handed over. */
function printed(): Promise<void> {
  const streams = outputGone ? [] : [process.stdout, process.stderr];
  return Promise.all(streams.map((stream) => new Promise<void>((resolve) => stream.write('', () => resolve())))).then(() => undefined);
}

function say(message: string): void {
  print(process.stdout, `${paint(1, 'start'.padEnd(13))}| ${message}\n`);
}

function fail(message: string): never {
  print(process.stderr, `${paint(31, 'start'.padEnd(13))}| ${message}\n`);
  process.exit(1);
}

function intEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) fail(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return value;
}

/** True when nothing listens on `port`, on any interface or on loopback. */
async function portFree(port: number): Promise<boolean> {
  const tryListen = (host?: string): Promise<boolean> =>
    new Promise((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
    });
  return (await tryListen()) && (await tryListen('127.0.0.1'));
}

/**
 * Why `REDIS_URL` cannot be used, or undefined when it answers PING: the server's own refusal
 * (`WRONGPASS …`, a TLS error) when there was one, rather than a timeout.
 */
async function redisProblem(url: string): Promise<string | undefined> {
  let config;
  try {
    config = loadCommonConfig(process.env, { service: 'start', port: 0 });
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  const client = createRedis(url, {
    connectionName: 'start:probe',
    offlineQueue: true,
    commandTimeoutMs: 3000,
    ...credentialsOf(config),
  });
  let lastError: string | undefined;
  client.on('error', (err: Error) => (lastError = err.message));
  try {
    return (await client.ping()) === 'PONG' ? undefined : 'PING was not answered with PONG';
  } catch (error) {
    return lastError ?? (error instanceof Error ? error.message : String(error));
  } finally {
    client.disconnect();
  }
}

async function main(): Promise<void> {
  const replicas = intEnv('INVENTORY_REPLICAS', 3, 1, 32);
  const orderPort = intEnv('ORDER_PORT', 3001, 1, 65535);
  const inventoryPort = intEnv('INVENTORY_PORT', 3002, 1, 65535);
  const shutdownGraceMs = intEnv('SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000) + 5000;
  const namespace = process.env.REDIS_NAMESPACE?.trim() || undefined;
  let format: (raw: string) => string = (raw) => raw;
  try {
    format = logFormatter(process.env.LOG_FORMAT, process.stdout.isTTY === true);
  } catch (error) {
    fail((error as Error).message);
  }
  try {
    serviceEntry('order', root);
    serviceEntry('inventory', root);
  } catch (error) {
    fail((error as Error).message);
  }

  const ports: Array<[string, number]> = [['order', orderPort]];
  for (let i = 0; i < replicas; i++) ports.push([`inventory-${i}`, inventoryPort + i]);
  for (const [name, port] of ports) {
    if (!(await portFree(port))) {
      fail(
        `port ${port} (for ${name}) is already in use: stop whatever holds it (another npm start? \`npm run reset\` stops ` +
          'what a killed one left running) or set ORDER_PORT / INVENTORY_PORT',
      );
    }
  }

  const topologyName = process.env.REDIS_TOPOLOGY?.trim() || 'single';
  if (topologyName !== 'single' && topologyName !== 'sentinel') fail(`REDIS_TOPOLOGY must be single or sentinel, got "${topologyName}"`);
  let redisUrl = process.env.REDIS_URL?.trim() || undefined;
  if (redisUrl && topologyName === 'sentinel') {
    fail(
      'REDIS_TOPOLOGY=sentinel starts its own Redis topology: unset REDIS_URL (or point REDIS_URL at your own Sentinels without REDIS_TOPOLOGY)',
    );
  }
  if (redisUrl) {
    const problem = await redisProblem(redisUrl);
    if (problem) fail(`cannot use REDIS_URL=${maskRedisUrl(redisUrl)}: ${problem}`);
    say(`using REDIS_URL=${maskRedisUrl(redisUrl)}`);
  } else if (!existsSync(REDIS_SERVER_BIN)) {
    fail(
      'redis-server is not installed. Install it and run npm start again:\n' +
        '    Debian/Ubuntu:  sudo apt-get install -y redis-server\n' +
        '    macOS:          brew install redis\n' +
        '  or point at a Redis you have: REDIS_URL=redis://host:6379 npm start',
    );
  }

  const dataDir = localDataDir();
  const redisDir = join(dataDir, 'redis');
  const inUse = dataDirInUse(dataDir);
  if (inUse) {
    fail(
      `${inUse}\n  Stop it first (Ctrl-C in its terminal), or run \`npm run reset\` to stop what is left of it and delete ${relative(process.cwd(), redisDir) || redisDir}.`,
    );
  }

  // From here on children exist (in their own process groups): every exit path must stop them.
  let redisServer: RedisServer | undefined;
  let topology: SentinelTopology | undefined;
  let system: SystemHarness | undefined;
  let stopping = false;
  let firstSignalAt: number | undefined;
  const startup = new AbortController();

  const stopAll = async (): Promise<void> => {
    if (system) {
      const running = system.processes.filter((p) => p.running);
      const results = await Promise.all(running.map(async (p) => [p.name, await p.stop(shutdownGraceMs)] as const));
      for (const [name, result] of results) {
        // Nest's shutdown hooks re-raise the signal after closing, so SIGTERM is a clean stop too.
        if (result.code !== 0 && result.signal !== 'SIGTERM') say(`${name} exited with ${result.signal ?? `code ${result.code}`}`);
      }
      await system.stop();
    }
    if (redisServer) {
      say('stopping redis-server');
      await redisServer.stop({ keepData: true });
    }
    if (topology) {
      say('stopping the Sentinels and their Redis nodes');
      await topology.stop();
    }
    removeLocalSystem();
  };

  let starting: Promise<void> = Promise.resolve();
  const shutdown = async (signal: NodeJS.Signals | 'broken pipe'): Promise<void> => {
    if (firstSignalAt !== undefined) {
      // A terminal's Ctrl-C reaches every process of the group; under `timeout` or a wrapper it can
      // arrive twice at once: that is still one request.
      if (Date.now() - firstSignalAt < 1000) return;
      say(`${signal} again: killing everything`);
      await Promise.all((system?.processes ?? []).map((p) => p.kill('SIGKILL')));
      await redisServer?.stop({ keepData: true, signal: 'SIGKILL' });
      await topology?.stop();
      removeLocalSystem();
      process.exit(1);
    }
    firstSignalAt = Date.now();
    stopping = true;
    say(`${signal}: stopping the services (SIGTERM; ${signal === 'SIGINT' ? 'Ctrl-C' : 'signal'} again to kill)`);
    startup.abort(new Error(`${signal} during startup`));
    await starting.catch(() => undefined);
    await stopAll();
    say('stopped');
    // Exit ourselves rather than let the event loop drain: while Node tears down after a natural
    // exit it restores the default signal actions, so a second Ctrl-C landing then would end us by
    // SIGINT instead of code 0. The timer covers a reader that never takes the last lines.
    setTimeout(() => process.exit(0), 2000).unref();
    await printed();
    process.exit(0);
  };
  const onSignal = (signal: NodeJS.Signals | 'broken pipe'): void => {
    shutdown(signal).catch((error: unknown) => {
      print(process.stderr, `shutdown failed: ${String(error)}\n`);
      process.exit(1);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Whoever read our output is gone (a `tee` that died first): nobody sees the system any more.
  onOutputGone = () => onSignal('broken pipe');
  // A bug of ours must not leave the children running either.
  const crash = (error: unknown): void => {
    print(process.stderr, `start failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    if (stopping) process.exit(1);
    stopping = true;
    void stopAll()
      .catch(() => undefined)
      .finally(() => process.exit(1));
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);

  const colours = new Map<string, number>(ports.map(([name], i) => [name, PALETTE[i % PALETTE.length]]));
  const prefix = (name: string): string => paint(colours.get(name) ?? 0, name.padEnd(13)) + '| ';

  starting = (async () => {
    if (!redisUrl && topologyName === 'sentinel') {
      topology = await SentinelTopology.start({ detached: true });
      redisUrl = topology.url;
      const master = await topology.master();
      const replica = topology.nodes.find((node) => node !== master);
      say(
        `started a Sentinel topology: master ${master.url}, replica ${replica?.url ?? '-'}, REDIS_URL=${redisUrl} ` +
          '(fresh data each start; try npm run demo -- --failover)',
      );
    } else if (!redisUrl) {
      const dir = redisDir;
      mkdirSync(dir, { recursive: true });
      redisServer = await RedisServer.start({
        dir,
        detached: true,
        // Lets the next npm start (and npm run reset) find it if this process dies without stopping it.
        extraArgs: ['--pidfile', redisPidFile(dataDir)],
        onExit: (code, signal) => {
          if (!stopping) say(paint(31, `redis-server exited unexpectedly (${signal ?? `code ${code}`}); the services keep retrying`));
        },
      });
      redisUrl = redisServer.url;
      say(`started redis-server on ${redisUrl} (AOF on, data in ${relative(process.cwd(), dir) || dir})`);
    }
    if (startup.signal.aborted) return;
    system = await SystemHarness.start({
      redisUrl,
      namespace,
      replicas,
      ports: { order: orderPort, inventory: inventoryPort },
      detached: true,
      signal: startup.signal,
      env: {
        // Behind Sentinel an order counts once the replica holds it (docs/high-availability.md).
        REDIS_WAIT_REPLICAS: process.env.REDIS_WAIT_REPLICAS ?? (topology ? '1' : undefined),
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
        DD_ENV: process.env.DD_ENV ?? 'local',
        DD_VERSION: process.env.DD_VERSION ?? '0.1.0',
      },
      // Passed through as set (undefined removes the harness's test default: the service decides).
      inventoryEnv: { INVENTORY_WORK_DELAY_MS: process.env.INVENTORY_WORK_DELAY_MS },
      onLine: (name, line) => print(process.stdout, prefix(name) + format(line) + '\n'),
      onUnexpectedExit: (name, result) => {
        if (!stopping) say(paint(31, `${name} exited unexpectedly (${result.signal ?? `code ${result.code}`})`));
      },
    });
  })();
  try {
    await starting;
  } catch (error) {
    if (stopping) return; // a signal interrupted the start; shutdown() finishes the job
    stopping = true;
    print(process.stderr, `${(error as Error).message}\n`);
    await stopAll();
    fail('the system did not start; see the output above');
  }
  if (stopping || !system || !redisUrl) return;

  const orderUrl = `http://localhost:${orderPort}`;
  const inventoryUrl = `http://localhost:${inventoryPort}`;
  writeLocalSystem({
    pid: process.pid,
    pids: [...system.processes.map((p) => p.pid!), ...(redisServer?.pid ? [redisServer.pid] : [])],
    redisUrl,
    namespace,
    orderUrl: system.orderUrl,
    inventoryUrls: system.inventory.map((replica) => replica.url),
  });
  const lastInventoryPort = inventoryPort + replicas - 1;
  const demoEnv = orderPort === 3001 ? '' : `ORDER_URL=${orderUrl} `;
  print(
    process.stdout,
    [
      '',
      paint(
        1,
        `Ready: order on :${orderPort}, ${replicas} inventory replica(s) on :${inventoryPort}${replicas > 1 ? `–${lastInventoryPort}` : ''}, Redis ${maskRedisUrl(redisUrl)}`,
      ),
      '',
      '  # stock a SKU (any replica)',
      `  curl -s -X PUT ${inventoryUrl}/inventory/A-1 -H 'content-type: application/json' -d '{"available":10}'`,
      '  # place an order (202 {orderId, status: "PENDING"})',
      `  curl -s -X POST ${orderUrl}/orders -H 'content-type: application/json' -H "Idempotency-Key: $(date +%s%N)" -d '{"items":[{"sku":"A-1","quantity":2}]}'`,
      '  # read it, waiting up to 2 s for a terminal status',
      `  curl -s '${orderUrl}/orders/<orderId>?waitMs=2000'`,
      '  # stock and the inventory list',
      `  curl -s ${inventoryUrl}/inventory/A-1`,
      `  curl -s '${inventoryUrl}/inventory?limit=20'`,
      '  # 2,000 concurrent orders and the exactly-once check, in another terminal',
      `  ${demoEnv}npm run demo`,
      '',
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  print(process.stderr, `start failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
