/**
 * The charts' wiring proven against the real services: render inventory (bundled Redis) and order
 * (external URL pointing at it, as the README's Deploying section says), take each Deployment's container argv
 * and env, resolve them as a kubelet would (fieldRefs with local stand-ins, the Secret, the image's
 * ENV from the Dockerfile target), start `replicas` processes of each against a private Redis started
 * with the StatefulSet's AOF settings, hit the probes' paths and ports, push orders, check
 * exactly-once, run the `helm test` pod's script, and stop everything with SIGTERM as a rollout would.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { freePort, RedisServer, type ExitResult, type ServiceProcess } from '@eo/local';
import { readImageConfig } from './support/dockerfile';
import type { Manifest } from './support/k8s-validate';
import { containerArgv, findManifest, localProcess, reroute, resolvePodEnv, resolvePort, type ContainerSpec } from './support/local-run';
import { deployment, render, root, testPod, type Chart, type Deployment } from './charts';
import { placeOrdersAndCheck, runOnce, waitFor200 } from './fleet';

const NAMESPACE = 'helmlocal';

interface Pod {
  chart: Chart;
  name: string;
  container: ContainerSpec;
  deployment: Deployment;
  env: Record<string, string>;
  process: ServiceProcess;
  port: number;
}

let redisServer: RedisServer | undefined;
let redis: Redis | undefined;
const pods: Pod[] = [];
const rendered: Record<Chart, Manifest[]> = {
  inventory: render('inventory', { 'redis.bundled.enabled': true, 'redis.namespace': NAMESPACE }),
  order: render('order', { 'redis.url': 'redis://inventory-redis:6379', 'redis.namespace': NAMESPACE }),
};
const routes: Record<string, string> = {};

/** Starts the Deployment's `replicas` pods of `chart` as local processes. */
async function startPods(chart: Chart): Promise<Pod[]> {
  const docs = rendered[chart];
  const dep = deployment(docs);
  const template = dep.spec.template;
  const [container] = template.spec.containers;
  const image = readImageConfig(join(root, 'Dockerfile'), chart);
  const started: Pod[] = [];
  const hash = randomUUID().slice(0, 10).replace(/-/g, '');
  for (let i = 0; i < (dep.spec.replicas ?? 1); i++) {
    const name = `${dep.metadata.name}-${hash}-${randomUUID().slice(0, 5)}`;
    const env = resolvePodEnv(
      container,
      template,
      docs,
      { name, namespace: 'default', uid: randomUUID(), hostIP: '127.0.0.1', podIP: '127.0.0.1', nodeName: 'local' },
      image.env,
    );
    // Each pod has its own IP and so the same port; local processes need their own.
    expect(env.PORT).toBe(String(resolvePort(container, 'http')));
    env.REDIS_URL = reroute(env.REDIS_URL, routes);
    const port = await freePort();
    const process = localProcess({
      name,
      argv: containerArgv(image, container.command, container.args),
      env,
      workdir: image.workdir,
      port,
      root,
    });
    process.start();
    started.push({ chart, name, container, deployment: dep, env, process, port });
  }
  pods.push(...started);
  await Promise.all(
    started.map((pod) =>
      waitFor200(`http://127.0.0.1:${pod.port}${pod.container.readinessProbe?.httpGet?.path ?? '(no readiness probe)'}`, pod.process),
    ),
  );
  return started;
}

const urls = (chart: Chart): string[] => pods.filter((p) => p.chart === chart).map((p) => `http://127.0.0.1:${p.port}`);

beforeAll(async () => {
  // The private Redis runs with the bundled StatefulSet's persistence settings.
  const statefulSet = findManifest(rendered.inventory, 'StatefulSet', 'inventory-redis');
  const args = (statefulSet.spec as { template: { spec: { containers: ContainerSpec[] } } }).template.spec.containers[0].args ?? [];
  expect(args.slice(args.indexOf('--appendonly'), args.indexOf('--appendonly') + 2)).toEqual(['--appendonly', 'yes']);
  const appendfsync = args[args.indexOf('--appendfsync') + 1] as 'always' | 'everysec' | 'no';
  redisServer = await RedisServer.start({ appendfsync });
  redis = redisServer.client();
  // Cluster DNS: the Redis Service, and the Services the helm test pod calls.
  routes['inventory-redis:6379'] = `127.0.0.1:${redisServer.port}`;
  await startPods('inventory');
  await startPods('order');
  routes['inventory:3002'] = `127.0.0.1:${pods.find((p) => p.chart === 'inventory')!.port}`;
  routes['order:3001'] = `127.0.0.1:${pods.find((p) => p.chart === 'order')!.port}`;
}, 90_000);

afterAll(async () => {
  await Promise.all(pods.map((pod) => pod.process.stop(5000)));
  redis?.disconnect();
  await redisServer?.stop();
});

describe('the rendered charts, run as local processes against the real services', () => {
  it('start replicaCount pods each, with the env names, ports and probe paths the services expect', async () => {
    expect(pods.filter((p) => p.chart === 'inventory')).toHaveLength(3);
    expect(pods.filter((p) => p.chart === 'order')).toHaveLength(2);
    for (const pod of pods) {
      for (const probe of [pod.container.startupProbe, pod.container.livenessProbe, pod.container.readinessProbe]) {
        expect(resolvePort(pod.container, probe!.httpGet!.port)).toBe(Number(pod.env.PORT));
        const response = await fetch(`http://127.0.0.1:${pod.port}${probe!.httpGet!.path}`);
        expect({ pod: pod.name, path: probe!.httpGet!.path, status: response.status }).toEqual({
          pod: pod.name,
          path: probe!.httpGet!.path,
          status: 200,
        });
      }
      // The image's ENV reached the process (the test-only fault injection is refused under it).
      expect(pod.env.NODE_ENV).toBe('production');
      const started = await pod.process.waitForLog((line) => line.event === 'service.started');
      expect(started).toMatchObject({ service: pod.chart, env: 'dev', version: '0.1.0', replica: pod.name });
      expect(pod.process.rawLines.filter((l) => l.stream === 'stderr')).toEqual([]);
    }
  });

  it('process 300 concurrent orders exactly once across the 3 inventory pods', async () => {
    const report = await placeOrdersAndCheck({
      orderUrls: urls('order'),
      inventoryUrls: urls('inventory'),
      redis: redis!,
      namespace: NAMESPACE,
      processes: pods.map((p) => p.process),
    });
    expect(report.reserved + report.rejected).toBe(300);
    expect(report.rejected).toBeGreaterThan(0);
    // processedBy is the pod name (REPLICA_NAME from metadata.name), and the work is shared.
    const names = pods.filter((p) => p.chart === 'inventory').map((p) => p.name);
    for (const replica of Object.keys(report.processedPerReplica)) expect(names).toContain(replica);
    expect(Object.keys(report.processedPerReplica).length).toBeGreaterThanOrEqual(2);
    // Everything went to the namespaced keys.
    expect(await redis!.exists('orders:pending', 'order_updates')).toBe(0);
    expect((await redis!.keys(`${NAMESPACE}:stock:*`)).length).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it('pass the helm test hook: its script places an order through the order Service and sees it RESERVED', async () => {
    for (const chart of ['inventory', 'order'] as const) {
      const pod = testPod(rendered[chart]);
      const [container] = pod.spec.containers;
      const image = readImageConfig(join(root, 'Dockerfile'), chart);
      const env = resolvePodEnv(
        container,
        pod,
        rendered[chart],
        { name: pod.metadata.name, namespace: 'default', uid: randomUUID(), hostIP: '127.0.0.1', podIP: '127.0.0.1', nodeName: 'local' },
        image.env,
      );
      for (const key of ['ORDER_URL', 'INVENTORY_URL']) env[key] = reroute(env[key], routes);
      let argv = containerArgv(image, container.command, container.args);
      expect(argv.slice(0, 2)).toEqual(['/usr/bin/tini', '--']);
      argv = argv.slice(2);
      const { stdout } = await runOnce(argv, env);
      expect(stdout).toContain('helm test passed: order processed exactly once');
    }
  }, 60_000);

  it('exit 0 on SIGTERM, well within terminationGracePeriodSeconds', async () => {
    const stopped = await Promise.all(
      pods.map(async (pod) => {
        const started = Date.now();
        const result: ExitResult = await pod.process.stop(60_000);
        return {
          pod: pod.name,
          code: result.code,
          withinGrace: Date.now() - started < (pod.deployment.spec.template.spec.terminationGracePeriodSeconds ?? 30) * 1000,
        };
      }),
    );
    for (const result of stopped) expect(result).toEqual({ pod: result.pod, code: 0, withinGrace: true });
  }, 60_000);
});
