import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { serviceAclRules } from '@eo/platform';
import { freePort, RedisServer, repoRoot, requestJson, ServiceProcess, serviceEntry, SystemHarness } from '@eo/local';
import { makeTestCertificates, type TestCertificates } from '../support';

const PASSWORD = 'c0rrect-h0rse';
const WRONG = 'wr0ng-passw0rd';
const root = repoRoot();
let dir: string;
let certs: TestCertificates;
let server: RedisServer;
let tlsPort: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'eo-security-'));
  certs = makeTestCertificates(dir);
  tlsPort = await freePort();
  // The plain port stays open for the harness (the default user); the services use TLS and `eo`.
  server = await RedisServer.start({
    extraArgs: [
      '--tls-port',
      String(tlsPort),
      '--tls-cert-file',
      certs.serverCert,
      '--tls-key-file',
      certs.serverKey,
      '--tls-ca-cert-file',
      certs.ca,
      '--user',
      'eo',
      'on',
      `>${PASSWORD}`,
      ...serviceAclRules(),
    ],
  });
}, 30_000);
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const tlsFiles = () => ({ REDIS_TLS_CA_FILE: certs.ca, REDIS_TLS_CERT_FILE: certs.clientCert, REDIS_TLS_KEY_FILE: certs.clientKey });

/** The order service alone, on `env`, not waited for. */
async function orderService(env: Record<string, string>): Promise<ServiceProcess> {
  return ServiceProcess.start({
    name: 'order',
    entry: serviceEntry('order', root),
    port: await freePort(),
    cwd: root,
    env: { REPLICA_NAME: 'order-security', DD_TRACE_ENABLED: 'false', ...env },
  });
}

describe('Redis over TLS, as an ACL user that may run only what the services need', () => {
  // Affinity claiming adds the replicas' heartbeat key and each replica's own status channel.
  it.each(['race', 'affinity'])(
    'runs the whole system (CLAIM_MODE=%s): stock set over HTTP, orders processed, no command denied',
    async (mode) => {
      const system = await SystemHarness.start({
        redisServer: server,
        replicas: 2,
        env: { REDIS_URL: `rediss://eo:${PASSWORD}@127.0.0.1:${tlsPort}`, ...tlsFiles(), REDIS_WAIT_REPLICAS: '0', CLAIM_MODE: mode },
      });
      try {
        const sku = SystemHarness.uniqueId('SEC');
        const put = await requestJson(`${system.inventoryUrl}/inventory/${sku}`, { method: 'PUT', body: { available: 10 } });
        expect(put.status).toBe(200);
        const { accepted, refused } = await system.placeOrders(Array.from({ length: 30 }, () => [{ sku, quantity: 1 }]));
        expect(refused).toEqual([]);
        await system.waitForQuiet(accepted);
        const statuses = await Promise.all(accepted.map(async (id) => (await system.getOrder(id)).body.status));
        expect(statuses.filter((s) => s === 'RESERVED')).toHaveLength(10);
        expect(statuses.filter((s) => s === 'REJECTED')).toHaveLength(20);
        expect((await requestJson<{ items: unknown[] }>(`${system.inventoryUrl}/inventory`)).body.items.length).toBeGreaterThan(0);
        for (const service of system.processes) expect((await fetch(`${service.url}/health/ready`)).status).toBe(200);
        expect(await system.redis.call('ACL', 'LOG')).toEqual([]);
        const clients = String(await system.redis.call('CLIENT', 'LIST'));
        expect(clients.split('\n').filter((line) => /name=(order|inventory)/.test(line) && !/user=eo/.test(line))).toEqual([]);
      } finally {
        await system.stop();
      }
    },
    90_000,
  );

  it('says WRONGPASS for a wrong password, never prints it, and is not ready', async () => {
    const order = await orderService({ REDIS_URL: `rediss://eo:${WRONG}@127.0.0.1:${tlsPort}`, ...tlsFiles() });
    try {
      const line = await order.waitForLog((l) => JSON.stringify(l).includes('WRONGPASS'), 15_000);
      expect(line.event).toBe('redis.state');
      await order.waitForLog((l) => l.event === 'service.started', 15_000);
      const ready = await requestJson(`${order.url}/health/ready`);
      expect(ready.status).toBe(503);
      expect(order.tail(500)).not.toContain(WRONG);
      expect(JSON.stringify(ready.body)).not.toContain(WRONG);
    } finally {
      await order.stop();
    }
  }, 30_000);

  it('refuses a server certificate from a CA it was not given', async () => {
    const { REDIS_TLS_CERT_FILE, REDIS_TLS_KEY_FILE } = tlsFiles();
    const order = await orderService({
      REDIS_URL: `rediss://eo:${PASSWORD}@127.0.0.1:${tlsPort}`,
      REDIS_TLS_CERT_FILE,
      REDIS_TLS_KEY_FILE,
    });
    try {
      const line = await order.waitForLog((l) => /certificate/i.test(JSON.stringify(l.err ?? '')), 15_000);
      expect(line.event).toBe('redis.state');
    } finally {
      await order.stop();
    }
  }, 30_000);

  it('is the ACL line docs/high-availability.md documents', () => {
    expect(readFileSync(join(root, 'docs/high-availability.md'), 'utf8')).toContain(
      `ACL SETUSER eo on >PASSWORD ${serviceAclRules().join(' ')}\n`,
    );
  });

  it('npm start names the refusal (WRONGPASS) instead of a timeout, without the password', async () => {
    const run = promisify(execFile)(process.execPath, [join(root, 'tools/dist/start.js')], {
      env: { ...process.env, REDIS_URL: `rediss://eo:${WRONG}@127.0.0.1:${tlsPort}`, ...tlsFiles(), ORDER_PORT: String(await freePort()) },
      timeout: 20_000,
    });
    const failure = (await run.then(
      () => undefined,
      (error: unknown) => error,
    )) as { code: number; stderr: string; stdout: string } | undefined;
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(/cannot use REDIS_URL=rediss:\/\/eo:\*\*\*@127\.0\.0\.1:\d+: WRONGPASS/);
    expect(`${failure?.stderr}${failure?.stdout}`).not.toContain(WRONG);
  }, 30_000);
});
