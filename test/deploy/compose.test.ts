/**
 * docker-compose.yml: valid against the Compose specification's JSON schema (dclint's bundled copy,
 * offline), shaped as issue 5 asks, and its order and inventory services run as local processes
 * exactly as Compose would start them (image ENTRYPOINT/CMD and ENV from the Dockerfile target,
 * the service's environment interpolated with Compose's defaults, `redis` routed to a private
 * Redis, `deploy.replicas` processes) and checked for exactly-once.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { freePort, RedisServer, SentinelTopology, type ServiceProcess } from '@eo/local';
import { composeEnvironment, interpolate, lintCompose, loadCompose, type ComposeService } from './support/compose';
import { readImageConfig, type ImageConfig } from './support/dockerfile';
import { containerArgv, localProcess, reroute } from './support/local-run';
import { root } from './charts';
import { placeOrdersAndCheck, runOnce, waitFor200 } from './fleet';

const COMPOSE = join(root, 'docker-compose.yml');
const SENTINEL_ENV = join(root, 'deploy/compose/sentinel.env');
const SENTINEL_CONF = join(root, 'deploy/compose/sentinel.conf');
// What `docker compose up` sees on a machine with none of the file's variables set.
const compose = loadCompose(COMPOSE, {});
const services = compose.services;

// Style rules (key and service order) are opinions; build + image together is deliberate: the
// image name tags what `build` produces (eo-order:0.1.0, the charts' default image).
const OFF_RULES = ['no-build-and-image', 'service-keys-order', 'services-alphabetical-order', 'top-level-properties-order'];

function buildOf(service: ComposeService): { target: string; args: Record<string, string> } {
  const build = service.build;
  if (typeof build !== 'object' || !build.target) throw new Error('expected build: { target }');
  const args: Record<string, string> = Array.isArray(build.args)
    ? Object.fromEntries(build.args.map((a) => a.split('=', 2) as [string, string]))
    : (build.args ?? {});
  return { target: build.target, args };
}

function seconds(duration: string | undefined): number {
  const m = /^(\d+)s$/.exec(duration ?? '');
  if (!m) throw new Error(`unexpected duration ${duration}`);
  return Number(m[1]);
}

describe('docker-compose.yml', () => {
  it('is valid against the Compose specification schema and passes dclint', () => {
    expect(lintCompose(COMPOSE, OFF_RULES)).toEqual([]);
  });

  it('is checked for real: a misspelt key fails the schema', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eo-compose-'));
    try {
      const bad = join(dir, 'docker-compose.yml');
      writeFileSync(bad, 'name: x\nservices:\n  a:\n    image: redis:7.4-alpine\n    deploy:\n      replica: 3\n');
      expect(lintCompose(bad, OFF_RULES).map((m) => m.rule)).toEqual(['invalid-schema']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('interpolates as Compose does', () => {
    expect(interpolate('${A:-x} ${B-y} $$C ${D}', { B: '' })).toBe('x  $C ');
    expect(() => interpolate('${A:?set A}', {})).toThrow('A is required: set A');
  });

  it('runs Redis from the official image with AOF (appendfsync always by default) and a healthcheck', () => {
    const redis = services.redis;
    expect(redis.image).toMatch(/^redis:7\.\d+-alpine$/);
    expect(redis.command).toEqual([
      'redis-server',
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--maxmemory-policy',
      'noeviction',
      '--replica-announce-ip',
      'redis',
      '--repl-diskless-sync-delay',
      '0',
    ]);
    expect(loadCompose(COMPOSE, { REDIS_APPENDFSYNC: 'everysec' }).services.redis.command).toContain('everysec');
    expect(redis.healthcheck?.test).toEqual(['CMD-SHELL', 'redis-cli ping | grep -q PONG']);
    expect(redis.volumes).toEqual(['redis-data:/data']);
  });

  it('starts order on 3001 and 3 inventory replicas once Redis is healthy, restarting them on failure', () => {
    expect(services.order.ports).toEqual(['127.0.0.1:3001:3001']);
    expect(services.inventory.deploy?.replicas).toBe(3);
    for (const name of ['order', 'inventory']) {
      const service = services[name];
      expect(service.depends_on).toEqual({ redis: { condition: 'service_healthy' } });
      expect(service.image).toBe(`eo-${name}:0.1.0`);
      expect(buildOf(service)).toEqual({ target: name, args: { VERSION: '0.1.0' } });
    }
    for (const name of ['redis', 'order', 'inventory', 'datadog-agent']) expect(services[name].restart).toBe('unless-stopped');
    // Docker's default 10 s stop timeout would SIGKILL a draining replica.
    const drain = Number(composeEnvironment(services.inventory).SHUTDOWN_TIMEOUT_MS) / 1000;
    expect(seconds(services.inventory.stop_grace_period)).toBeGreaterThanOrEqual(drain + 5);
  });

  it('has a datadog profile: the Agent with logs from all containers, APM and DogStatsD, DD_API_KEY from the environment', () => {
    const agent = services['datadog-agent'];
    expect(agent.profiles).toEqual(['datadog']);
    expect(agent.image).toMatch(/^gcr\.io\/datadoghq\/agent:7/);
    const env = composeEnvironment(agent, { DD_API_KEY: 'from-the-shell' });
    expect(env).toMatchObject({
      DD_API_KEY: 'from-the-shell',
      DD_LOGS_ENABLED: 'true',
      DD_LOGS_CONFIG_CONTAINER_COLLECT_ALL: 'true',
      DD_APM_ENABLED: 'true',
      DD_APM_NON_LOCAL_TRAFFIC: 'true',
      DD_DOGSTATSD_NON_LOCAL_TRAFFIC: 'true',
    });
    expect(composeEnvironment(agent, {})).not.toHaveProperty('DD_API_KEY'); // never written in the file
    expect(agent.volumes).toEqual(
      expect.arrayContaining(['/var/run/docker.sock:/var/run/docker.sock:ro', '/var/lib/docker/containers:/var/lib/docker/containers:ro']),
    );
    for (const name of ['order', 'inventory']) {
      const service = services[name];
      expect(service.profiles).toBeUndefined();
      expect(composeEnvironment(service)).toMatchObject({
        DD_AGENT_HOST: 'datadog-agent',
        DD_SERVICE: name,
        DD_ENV: 'local',
        DD_VERSION: '0.1.0',
        DD_LOGS_INJECTION: 'true',
      });
      expect(service.labels).toMatchObject({
        'com.datadoghq.tags.service': name,
        'com.datadoghq.tags.env': 'local',
        'com.datadoghq.tags.version': '0.1.0',
      });
    }
  });
});

/** `--env-file`: NAME=value lines, # comments. */
function readEnvFile(path: string): Record<string, string> {
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'));
  return Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

describe('docker-compose.yml, sentinel profile', () => {
  const sentinelEnv = readEnvFile(SENTINEL_ENV);
  const profiled = loadCompose(COMPOSE, sentinelEnv).services;

  it('adds a replica of redis and three Sentinels, and points the services at them with REDIS_WAIT_REPLICAS=1', () => {
    expect(sentinelEnv.COMPOSE_PROFILES).toBe('sentinel');
    for (const name of ['redis-replica', 'sentinel-1', 'sentinel-2', 'sentinel-3']) expect(profiled[name].profiles).toEqual(['sentinel']);
    expect(profiled['redis-replica'].command).toEqual(expect.arrayContaining(['--replicaof', 'redis', '6379', '--appendonly', 'yes']));
    for (const name of ['order', 'inventory']) {
      expect(composeEnvironment(profiled[name])).toMatchObject({
        REDIS_URL: 'redis+sentinel://sentinel-1:26379,sentinel-2:26379,sentinel-3:26379/mymaster',
        REDIS_WAIT_REPLICAS: '1',
      });
      // Without the env file: the single Redis, nothing waited for.
      expect(composeEnvironment(services[name])).toMatchObject({ REDIS_URL: 'redis://redis:6379', REDIS_WAIT_REPLICAS: '0' });
    }
    expect(readFileSync(SENTINEL_CONF, 'utf8')).toMatch(/^sentinel monitor mymaster redis 6379 2$/m);
  });

  describe('run as local processes: its Redis, Sentinel config and services', () => {
    let topology: SentinelTopology | undefined;
    const processes: ServiceProcess[] = [];

    afterAll(async () => {
      await Promise.all(processes.map((p) => p.stop(5000)));
      await topology?.stop();
    });

    it('processes orders exactly once, every write confirmed by the replica', async () => {
      // The container names become this machine's address; the compose file's own Redis flags apply.
      const localArgs = (command: string[]) =>
        command.slice(1).map((arg) => (arg === 'redis' || arg === 'redis-replica' ? '127.0.0.1' : arg));
      const masterArgs = localArgs(toList(profiled.redis.command)!);
      const conf = readFileSync(SENTINEL_CONF, 'utf8');
      topology = await SentinelTopology.start({
        masterName: 'mymaster',
        nodeArgs: masterArgs,
        sentinelConfig: (port, masterPort) =>
          `${conf.replace(/^port 26379$/m, `port ${port}`).replace(/ redis 6379 /, ` 127.0.0.1 ${masterPort} `)}\nbind 127.0.0.1\n`,
      });
      const sentinelPorts = topology.url
        .replace(/^redis\+sentinel:\/\//, '')
        .split('/')[0]
        .split(',');
      const routes = Object.fromEntries(sentinelPorts.map((hostPort, i) => [`sentinel-${i + 1}:26379`, hostPort]));
      const urls: Record<string, string[]> = { order: [], inventory: [] };
      for (const name of ['inventory', 'order']) {
        const service = profiled[name];
        const { target, args } = buildOf(service);
        const image = readImageConfig(join(root, 'Dockerfile'), target, args);
        const argv = containerArgv(image, toList(service.entrypoint), toList(service.command));
        for (let i = 0; i < (service.deploy?.replicas ?? 1); i++) {
          const env: Record<string, string> = { ...image.env, HOSTNAME: `${name}-${i}`, ...composeEnvironment(service) };
          env.REDIS_URL = reroute(env.REDIS_URL, routes);
          const port = await freePort();
          const process = localProcess({ name: `${name}-${i + 1}`, argv, env, workdir: image.workdir, port, root });
          process.start();
          processes.push(process);
          urls[name].push(`http://127.0.0.1:${port}`);
        }
      }
      await Promise.all(processes.map((p) => waitFor200(`${p.url}/health/ready`, p)));
      const master = await topology.master();
      const redis = master.client();
      try {
        const report = await placeOrdersAndCheck({
          orderUrls: urls.order,
          inventoryUrls: urls.inventory,
          redis,
          namespace: undefined,
          processes,
          orders: 100,
        });
        expect(report.reserved + report.rejected).toBe(100);
        // Every confirmed write reached the replica: it holds the same orders.
        const replica = topology.nodes.find((n) => n !== master)!.client();
        expect(await replica.dbsize()).toBe(await redis.dbsize());
        replica.disconnect();
      } finally {
        redis.disconnect();
      }
    }, 120_000);
  });
});

describe('docker-compose.yml, its services run as local processes', () => {
  let redisServer: RedisServer | undefined;
  let redis: Redis | undefined;
  const containers: Array<{
    name: string;
    service: string;
    image: ImageConfig;
    env: Record<string, string>;
    port: number;
    process: ServiceProcess;
  }> = [];

  beforeAll(async () => {
    redisServer = await RedisServer.start({ appendfsync: 'always' });
    redis = redisServer.client();
    const routes = { 'redis:6379': `127.0.0.1:${redisServer.port}` };
    for (const name of ['inventory', 'order']) {
      const service = services[name];
      const { target, args } = buildOf(service);
      const image = readImageConfig(join(root, 'Dockerfile'), target, args);
      const argv = containerArgv(image, toList(service.entrypoint), toList(service.command));
      for (let i = 0; i < (service.deploy?.replicas ?? 1); i++) {
        // Docker sets HOSTNAME to the container id; REPLICA_NAME defaults to it.
        const hostname = randomBytes(6).toString('hex');
        const env: Record<string, string> = { ...image.env, HOSTNAME: hostname, ...composeEnvironment(service) };
        env.REDIS_URL = reroute(env.REDIS_URL, routes);
        const port = await freePort();
        const process = localProcess({ name: `${name}-${i + 1}`, argv, env, workdir: image.workdir, port, root });
        process.start();
        containers.push({ name: hostname, service: name, image, env, port, process });
      }
    }
    await Promise.all(containers.map((c) => waitFor200(`http://127.0.0.1:${c.port}/health/ready`, c.process)));
  }, 90_000);

  afterAll(async () => {
    await Promise.all(containers.map((c) => c.process.stop(5000)));
    redis?.disconnect();
    await redisServer?.stop();
  });

  it("pass the image's HEALTHCHECK, and listen on the port compose publishes", async () => {
    expect(containers.filter((c) => c.service === 'inventory')).toHaveLength(3);
    for (const c of containers) {
      expect(c.env.PORT).toBe(c.image.expose[0]);
      expect(c.env.NODE_ENV).toBe('production');
      const published = (services[c.service].ports ?? []).map(String);
      expect(published.every((p) => p.endsWith(`:${c.env.PORT}`))).toBe(true);
      const check = c.image.healthcheck!;
      expect(check[0]).toBe('node');
      // The check runs inside the container, where PORT is the service's port: here, the local one.
      await expect(runOnce(check, { ...c.env, PORT: String(c.port) }, 10_000)).resolves.toBeDefined();
      const started = await c.process.waitForLog((line) => line.event === 'service.started');
      expect(started).toMatchObject({ service: c.service, env: 'local', version: '0.1.0', replica: c.name });
    }
  });

  it('process 300 concurrent orders exactly once across the 3 inventory replicas', async () => {
    const report = await placeOrdersAndCheck({
      orderUrls: containers.filter((c) => c.service === 'order').map((c) => `http://127.0.0.1:${c.port}`),
      inventoryUrls: containers.filter((c) => c.service === 'inventory').map((c) => `http://127.0.0.1:${c.port}`),
      redis: redis!,
      namespace: undefined,
      processes: containers.map((c) => c.process),
    });
    expect(report.reserved + report.rejected).toBe(300);
    const hostnames = containers.filter((c) => c.service === 'inventory').map((c) => c.name);
    for (const replica of Object.keys(report.processedPerReplica)) expect(hostnames).toContain(replica);
  }, 60_000);

  it('stop with exit 0 on SIGTERM within stop_grace_period', async () => {
    const results = await Promise.all(
      containers.map(async (c) => {
        const started = Date.now();
        const { code } = await c.process.stop(60_000);
        return { name: c.name, code, withinGrace: Date.now() - started < seconds(services[c.service].stop_grace_period) * 1000 };
      }),
    );
    for (const result of results) expect(result).toEqual({ name: result.name, code: 0, withinGrace: true });
  }, 60_000);
});

/** Compose splits a string `command`/`entrypoint` into words (no shell). */
function toList(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value : value.trim().split(/\s+/);
}
