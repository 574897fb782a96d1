/**
 * Runs a real `npm ci --omit=dev` (about 10 s with a warm npm cache): the runtime images'
 * file systems assembled by following the Dockerfile (see rehearse-image.ts), then the services run
 * from them — production dependencies only, NODE_ENV=production — and process orders exactly once.
 */
import { existsSync, lstatSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { freePort, RedisServer, type ServiceProcess } from '@eo/local';
import { readImageConfig } from './support/dockerfile';
import { containerArgv, localProcess } from './support/local-run';
import { rehearseImage } from './support/rehearse-image';
import { root } from './charts';
import { placeOrdersAndCheck, waitFor200 } from './fleet';

describe('the runtime images, assembled from the Dockerfile without Docker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'eo-image-'));
  const images = { order: join(dir, 'order'), inventory: join(dir, 'inventory') };
  let redisServer: RedisServer | undefined;
  let redis: Redis | undefined;
  const processes: Array<{ service: string; port: number; process: ServiceProcess }> = [];

  beforeAll(() => {
    for (const [target, path] of Object.entries(images)) rehearseImage(target, path, root);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.process.stop(5000)));
    redis?.disconnect();
    await redisServer?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hold production dependencies, the @eo libs (dist, and the engine Lua) and the service with its Lua, and no sources or dev tools', () => {
    for (const [target, app] of Object.entries(images)) {
      expect(existsSync(join(app, target, 'dist', 'main.js'))).toBe(true);
      for (const lib of ['exactly-once', 'contract', 'platform']) {
        expect(lstatSync(join(app, 'node_modules', '@eo', lib)).isSymbolicLink()).toBe(true);
        expect(readlinkSync(join(app, 'node_modules', '@eo', lib))).toBe(`../../libs/${lib}`);
        expect(existsSync(join(app, 'libs', lib, 'dist', 'index.js'))).toBe(true);
      }
      expect(existsSync(join(app, 'libs', 'exactly-once', 'lua', 'includes', 'fence.lua'))).toBe(true);
      expect(existsSync(join(app, target, 'lua'))).toBe(true);
      for (const absent of [
        'libs/platform/src',
        `${target}/src`,
        'node_modules/typescript',
        'node_modules/jest',
        'node_modules/kubernetes-models',
        'libs/local/dist',
        'tools/dist',
      ]) {
        expect({ absent, exists: existsSync(join(app, absent)) }).toEqual({ absent, exists: false });
      }
    }
  });

  it('run the services from the assembled images and process orders exactly once', async () => {
    redisServer = await RedisServer.start({ appendfsync: 'always' });
    redis = redisServer.client();
    for (const [service, count] of [
      ['inventory', 3],
      ['order', 1],
    ] as const) {
      const image = readImageConfig(join(root, 'Dockerfile'), service);
      for (let i = 0; i < count; i++) {
        const port = await freePort();
        const env = { ...image.env, HOSTNAME: `${service}-${i}`, REDIS_URL: redisServer.url, DD_TRACE_ENABLED: 'false' };
        const process = localProcess({
          name: `${service}-${i}`,
          argv: containerArgv(image),
          env,
          workdir: image.workdir,
          port,
          root: images[service],
        });
        process.start();
        processes.push({ service, port, process });
      }
    }
    await Promise.all(processes.map((p) => waitFor200(`http://127.0.0.1:${p.port}/health/ready`, p.process)));
    const report = await placeOrdersAndCheck({
      orderUrls: processes.filter((p) => p.service === 'order').map((p) => `http://127.0.0.1:${p.port}`),
      inventoryUrls: processes.filter((p) => p.service === 'inventory').map((p) => `http://127.0.0.1:${p.port}`),
      redis,
      namespace: undefined,
      processes: processes.map((p) => p.process),
      orders: 100,
    });
    expect(report.reserved + report.rejected).toBe(100);
  }, 60_000);
});
