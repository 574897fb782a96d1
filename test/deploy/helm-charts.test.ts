import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@eo/platform';
import { loadInventoryConfig } from '@eo/inventory/config';
import { loadOrderConfig } from '@eo/order/config';
import { chartValuesSchema, SERVICE_CONFIG, schemaPath, type ChartService } from '@eo/tools/charts/chart-schema';
import { readImageConfig } from './support/dockerfile';
import { runHelm } from '@eo/tools/charts/helm';
import { validateManifests, type Manifest } from './support/k8s-validate';
import { findManifest } from './support/local-run';
import { charts, deployment, envEntry, render, renderNotes, root, sets, testPod, type Chart, type PodSpec } from './charts';

type Values = Record<string, string | number | boolean>;

const EXTERNAL: Values = { 'redis.url': 'redis://redis.example:6379' };
const REDIS_CHOICES: Values[] = [EXTERNAL, { 'redis.existingSecret': 'prod-redis' }, { 'redis.bundled.enabled': true }];
const CHARTS: Chart[] = ['order', 'inventory'];

function fails(chart: Chart, values: Values): string {
  const result = runHelm(['template', chart, charts[chart], ...sets(values)]);
  expect(result.status).not.toBe(0);
  return result.stderr;
}

describe('the helm charts (a library chart plus a thin chart per service)', () => {
  it.each(CHARTS)('%s passes helm lint --strict with each way of giving it Redis', (chart) => {
    for (const redis of REDIS_CHOICES) {
      const result = runHelm(['lint', '--strict', charts[chart], ...sets(redis)]);
      expect({ redis, out: result.stdout + result.stderr, status: result.status }).toMatchObject({ status: 0 });
      expect(result.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    }
  });

  it('renders only valid Kubernetes objects in every configuration (kubernetes-models, offline)', () => {
    const scenarios: Array<[Chart, string, Values]> = [];
    for (const chart of CHARTS) {
      scenarios.push(
        [chart, 'defaults', EXTERNAL],
        [chart, 'replicaCount=3', { ...EXTERNAL, replicaCount: 3 }],
        [chart, 'existing Secret', { 'redis.existingSecret': 'prod-redis', 'redis.existingSecretKey': 'url' }],
        [chart, 'bundled Redis', { 'redis.bundled.enabled': true, 'redis.bundled.persistence.storageClass': 'fast' }],
        [chart, 'Datadog off', { ...EXTERNAL, 'datadog.enabled': false }],
        [
          chart,
          'Datadog admission controller',
          { ...EXTERNAL, 'datadog.admissionController.enabled': true, 'datadog.admissionController.configMode': 'socket' },
        ],
        [chart, 'HPA and minAvailable', { ...EXTERNAL, 'autoscaling.enabled': true, 'podDisruptionBudget.minAvailable': 2 }],
        [chart, 'no preStop, explicit grace', { ...EXTERNAL, 'shutdown.preStopSleepSeconds': 0, terminationGracePeriodSeconds: 60 }],
      );
    }
    const rendered = scenarios.map(([chart, name, values]) => ({ chart, name, docs: render(chart, values) }));
    const all: Manifest[] = rendered.flatMap((r) => r.docs);
    const verdicts = validateManifests(all);
    expect(verdicts).toHaveLength(all.length);
    const invalid = verdicts.filter((v) => v.errors.length > 0);
    expect(invalid).toEqual([]);
    // Every scenario yields the core objects.
    for (const { chart, name, docs } of rendered) {
      const kinds = docs.map((d) => d.kind);
      expect({ chart, name, kinds }).toEqual({
        chart,
        name,
        kinds: expect.arrayContaining(['Deployment', 'Service', 'ServiceAccount', 'Pod']) as unknown,
      });
    }
  });

  it('is validated for real: a wrong type or an unknown kind is reported', () => {
    const [wrongType, unknownKind] = validateManifests([
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'x' },
        spec: { selector: {}, template: { spec: { containers: [{ name: 'x', image: 'x', ports: [{ containerPort: 'http' }] }] } } },
      },
      { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'y' } },
    ]);
    expect(wrongType.errors.join('\n')).toMatch(/containerPort must be integer/);
    expect(unknownKind.errors.join('\n')).toMatch(/no kubernetes-models module for apiVersion example.com\/v1/);
  });

  it('gives inventory 3 replicas by default (order 2), or what replicaCount says', () => {
    expect(deployment(render('inventory', EXTERNAL)).spec.replicas).toBe(3);
    expect(deployment(render('order', EXTERNAL)).spec.replicas).toBe(2);
    expect(deployment(render('inventory', { ...EXTERNAL, replicaCount: 5 })).spec.replicas).toBe(5);
    // With the HPA on, the HPA owns the replica count.
    const scaled = render('inventory', { ...EXTERNAL, 'autoscaling.enabled': true });
    expect(deployment(scaled).spec.replicas).toBeUndefined();
    expect(findManifest(scaled, 'HorizontalPodAutoscaler').spec).toMatchObject({
      minReplicas: 3,
      maxReplicas: 9,
      scaleTargetRef: { name: 'inventory' },
    });
  });

  it('runs inventory hardened: non-root, read-only root fs, probes on the health endpoints, a PDB, spread across nodes', () => {
    const docs = render('inventory', EXTERNAL);
    const pod = deployment(docs).spec.template;
    const [container] = pod.spec.containers;
    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod.spec.automountServiceAccountToken).toBe(false);
    expect(pod.spec.enableServiceLinks).toBe(false);
    const resources = container.resources as { requests?: Record<string, string>; limits?: Record<string, string> };
    expect(Object.keys(resources.requests ?? {}).sort()).toEqual(['cpu', 'memory']);
    expect(Object.keys(resources.limits ?? {})).toEqual(['memory']);
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/health/ready', port: 'http' });
    expect(container.startupProbe?.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(container.ports).toEqual([{ name: 'http', containerPort: 3002, protocol: 'TCP' }]);
    expect(pod.spec.topologySpreadConstraints?.map((c) => c.topologyKey)).toEqual([
      'kubernetes.io/hostname',
      'topology.kubernetes.io/zone',
    ]);
    const selector = deployment(docs).spec.selector.matchLabels;
    expect(pod.spec.topologySpreadConstraints?.[0].labelSelector).toEqual({ matchLabels: selector });
    expect(findManifest(docs, 'PodDisruptionBudget').spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: selector } });
    expect(findManifest(docs, 'Service').spec).toMatchObject({ selector, ports: [{ port: 3002, targetPort: 'http' }] });
    expect(findManifest(docs, 'ServiceAccount')).toMatchObject({ automountServiceAccountToken: false });
    expect(pod.spec.serviceAccountName).toBe('inventory');
  });

  it('gives the pod a grace period that covers SHUTDOWN_TIMEOUT_MS, and refuses one that does not', () => {
    const grace = (values: Values): number | undefined =>
      deployment(render('inventory', { ...EXTERNAL, ...values })).spec.template.spec.terminationGracePeriodSeconds;
    // preStop 5 s + drain 10 s + the service's 5 s force-exit margin + 5 s.
    expect(grace({})).toBe(25);
    expect(grace({ 'config.SHUTDOWN_TIMEOUT_MS': 60_000 })).toBe(75);
    expect(grace({ terminationGracePeriodSeconds: 120 })).toBe(120);
    expect(fails('inventory', { ...EXTERNAL, terminationGracePeriodSeconds: 20 })).toMatch(
      /terminationGracePeriodSeconds=20 does not cover the shutdown/,
    );
    expect(deployment(render('order', EXTERNAL)).spec.template.spec.terminationGracePeriodSeconds).toBe(20);
    const [container] = deployment(render('inventory', EXTERNAL)).spec.template.spec.containers;
    expect(envEntry(container, 'SHUTDOWN_TIMEOUT_MS')).toEqual({ name: 'SHUTDOWN_TIMEOUT_MS', value: '10000' });
    expect(container.lifecycle).toEqual({ preStop: { exec: { command: ['sleep', '5'] } } });
  });

  it("reads an external Redis URL from the chart's Secret or from an existing one, and starts no Redis", () => {
    const own = render('inventory', { 'redis.url': 'redis://:s3cret@redis.example:6379/2', 'redis.namespace': 'staging' });
    const secret = findManifest(own, 'Secret', 'inventory-redis-url');
    expect(Buffer.from((secret.data as Record<string, string>)['redis-url'], 'base64').toString()).toBe(
      'redis://:s3cret@redis.example:6379/2',
    );
    const [container] = deployment(own).spec.template.spec.containers;
    expect(envEntry(container, 'REDIS_URL')).toEqual({
      name: 'REDIS_URL',
      valueFrom: { secretKeyRef: { name: 'inventory-redis-url', key: 'redis-url' } },
    });
    expect(envEntry(container, 'REDIS_NAMESPACE')).toEqual({ name: 'REDIS_NAMESPACE', value: 'staging' });
    expect(JSON.stringify(own)).not.toContain('s3cret@redis.example:6379/2"'); // only base64 in the Secret
    expect(own.some((d) => d.kind === 'StatefulSet')).toBe(false);

    const existing = render('order', { 'redis.existingSecret': 'prod-redis', 'redis.existingSecretKey': 'url' });
    expect(existing.some((d) => d.kind === 'Secret')).toBe(false);
    const [orderContainer] = deployment(existing).spec.template.spec.containers;
    expect(envEntry(orderContainer, 'REDIS_URL')).toEqual({
      name: 'REDIS_URL',
      valueFrom: { secretKeyRef: { name: 'prod-redis', key: 'url' } },
    });
  });

  it('follows a Sentinel master: builds the URL, takes the password from its own Secret, and confirms writes on 1 replica', () => {
    const docs = render('inventory', {
      'redis.sentinel.hosts': '{s-0.sentinel:26379,s-1.sentinel:26379,s-2.sentinel:26379}',
      'redis.sentinel.masterName': 'orders',
      'redis.sentinel.passwordSecret': 'redis-auth',
    });
    const [container] = deployment(docs).spec.template.spec.containers;
    expect(envEntry(container, 'REDIS_URL')).toEqual({
      name: 'REDIS_URL',
      value: 'redis+sentinel://s-0.sentinel:26379,s-1.sentinel:26379,s-2.sentinel:26379/orders',
    });
    expect(envEntry(container, 'REDIS_PASSWORD')).toEqual({
      name: 'REDIS_PASSWORD',
      valueFrom: { secretKeyRef: { name: 'redis-auth', key: 'redis-password' } },
    });
    expect(envEntry(container, 'REDIS_WAIT_REPLICAS')).toEqual({ name: 'REDIS_WAIT_REPLICAS', value: '1' });
    expect(envEntry(container, 'REDIS_WAIT_TIMEOUT_MS')).toEqual({ name: 'REDIS_WAIT_TIMEOUT_MS', value: '1000' });
    expect(docs.some((d) => d.kind === 'Secret' || d.kind === 'StatefulSet')).toBe(false);
    expect(validateManifests(docs).filter((v) => v.errors.length > 0)).toEqual([]);
    expect(renderNotes('inventory', { 'redis.sentinel.hosts': '{s-0:26379}' })).toMatch(/Sentinel master mymaster via s-0:26379/);

    // Without Sentinel nothing waits unless asked; an explicit value wins either way.
    const plain = deployment(render('order', EXTERNAL)).spec.template.spec.containers[0];
    expect(envEntry(plain, 'REDIS_WAIT_REPLICAS')).toEqual({ name: 'REDIS_WAIT_REPLICAS', value: '0' });
    const two = deployment(render('order', { ...EXTERNAL, 'redis.waitReplicas': 2, 'redis.waitTimeoutMs': 250 })).spec.template.spec
      .containers[0];
    expect(envEntry(two, 'REDIS_WAIT_REPLICAS')).toEqual({ name: 'REDIS_WAIT_REPLICAS', value: '2' });
    expect(envEntry(two, 'REDIS_WAIT_TIMEOUT_MS')).toEqual({ name: 'REDIS_WAIT_TIMEOUT_MS', value: '250' });
    const none = deployment(render('order', { 'redis.sentinel.hosts': '{s-0:26379}', 'redis.waitReplicas': 0 })).spec.template.spec
      .containers[0];
    expect(envEntry(none, 'REDIS_WAIT_REPLICAS')).toEqual({ name: 'REDIS_WAIT_REPLICAS', value: '0' });
  });

  it('turns the admin API on from a Secret holding ADMIN_TOKEN, and leaves it off by default', () => {
    const off = deployment(render('order', EXTERNAL)).spec.template.spec.containers[0];
    expect(envEntry(off, 'ADMIN_TOKEN')).toBeUndefined();
    const on = deployment(render('order', { ...EXTERNAL, 'admin.existingSecret': 'order-admin' })).spec.template.spec.containers[0];
    expect(envEntry(on, 'ADMIN_TOKEN')).toEqual({
      name: 'ADMIN_TOKEN',
      valueFrom: { secretKeyRef: { name: 'order-admin', key: 'admin-token' } },
    });
    expect(fails('inventory', { ...EXTERNAL, 'admin.existingSecret': 'x' })).toMatch(/Additional property admin is not allowed/);
  });

  it('bundles a single Redis with AOF (appendfsync always) on a PVC when asked', () => {
    const docs = render('inventory', { 'redis.bundled.enabled': true });
    const set = findManifest(docs, 'StatefulSet', 'inventory-redis');
    const spec = set.spec as {
      serviceName: string;
      template: { spec: PodSpec };
      volumeClaimTemplates: Array<{ spec: { resources: { requests: { storage: string } } } }>;
    };
    const [redis] = spec.template.spec.containers;
    expect(redis.image).toBe('redis:7.4-alpine');
    expect(redis.args).toEqual([
      'redis-server',
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--maxmemory-policy',
      'noeviction',
      '--dir',
      '/data',
    ]);
    expect(spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('1Gi');
    expect(spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 999, fsGroup: 999 });
    const service = findManifest(docs, 'Service', 'inventory-redis');
    expect(spec.serviceName).toBe('inventory-redis');
    // The Redis pods must not be selected by the inventory Service, nor the inventory pods by Redis's.
    const appSelector = findManifest(docs, 'Service', 'inventory').spec as { selector: Record<string, string> };
    expect((service.spec as { selector: Record<string, string> }).selector).not.toEqual(appSelector.selector);
    const [container] = deployment(docs).spec.template.spec.containers;
    expect(envEntry(container, 'REDIS_URL')).toEqual({ name: 'REDIS_URL', value: 'redis://inventory-redis:6379' });
    expect(docs.some((d) => d.kind === 'Secret')).toBe(false);
    const everysec = findManifest(
      render('inventory', { 'redis.bundled.enabled': true, 'redis.bundled.appendfsync': 'everysec' }),
      'StatefulSet',
    );
    expect(JSON.stringify(everysec)).toContain('"everysec"');
  });

  it('wires Datadog: unified service tags as labels read back into DD_*, the node Agent, log autodiscovery; off turns tracing off', () => {
    const on = deployment(render('inventory', { ...EXTERNAL, 'datadog.env': 'prod', 'image.tag': '1.4.2' }));
    const labels = on.spec.template.metadata.labels!;
    expect(labels).toMatchObject({
      'tags.datadoghq.com/env': 'prod',
      'tags.datadoghq.com/service': 'inventory',
      'tags.datadoghq.com/version': '1.4.2',
    });
    expect(on.metadata.labels).toMatchObject({ 'tags.datadoghq.com/env': 'prod', 'tags.datadoghq.com/service': 'inventory' });
    const [container] = on.spec.template.spec.containers;
    for (const [name, label] of [
      ['DD_ENV', 'env'],
      ['DD_SERVICE', 'service'],
      ['DD_VERSION', 'version'],
    ]) {
      expect(envEntry(container, name)).toEqual({
        name,
        valueFrom: { fieldRef: { fieldPath: `metadata.labels['tags.datadoghq.com/${label}']` } },
      });
    }
    expect(envEntry(container, 'DD_AGENT_HOST')).toEqual({
      name: 'DD_AGENT_HOST',
      valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } },
    });
    expect(envEntry(container, 'DD_TRACE_ENABLED')?.value).toBe('true');
    expect(envEntry(container, 'DD_LOGS_INJECTION')?.value).toBe('true');
    expect(envEntry(container, 'DD_TRACE_AGENT_PORT')?.value).toBe('8126');
    expect(envEntry(container, 'DD_DOGSTATSD_PORT')?.value).toBe('8125');
    expect(JSON.parse(on.spec.template.metadata.annotations!['ad.datadoghq.com/inventory.logs'])).toEqual([
      { source: 'nodejs', service: 'inventory' },
    ]);
    expect(labels['admission.datadoghq.com/enabled']).toBeUndefined();

    const admission = deployment(render('order', { ...EXTERNAL, 'datadog.admissionController.enabled': true }));
    expect(admission.spec.template.metadata.labels!['admission.datadoghq.com/enabled']).toBe('true');
    expect(envEntry(admission.spec.template.spec.containers[0], 'DD_AGENT_HOST')).toBeUndefined();

    const off = deployment(render('inventory', { ...EXTERNAL, 'datadog.enabled': false }));
    const [plain] = off.spec.template.spec.containers;
    expect(envEntry(plain, 'DD_TRACE_ENABLED')?.value).toBe('false');
    expect(envEntry(plain, 'DD_AGENT_HOST')).toBeUndefined();
    expect(envEntry(plain, 'DD_SERVICE')).toBeDefined(); // the services still tag their logs
    expect(off.spec.template.metadata.annotations ?? {}).not.toHaveProperty(['ad.datadoghq.com/inventory.logs']);
  });

  it('has a helm test hook that places an order on the order service and seeds stock on the inventory service', () => {
    const inventoryPod = testPod(render('inventory', EXTERNAL));
    const [container] = inventoryPod.spec.containers;
    expect(inventoryPod.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'test' });
    expect(container.args?.slice(0, 2)).toEqual(['node', '-e']);
    expect(container.args?.[2]).toContain("'/orders'");
    expect(container.args?.[2]).toContain('?waitMs=');
    expect(envEntry(container, 'ORDER_URL')?.value).toBe('http://order:3001');
    expect(envEntry(container, 'INVENTORY_URL')?.value).toBe('http://inventory:3002');
    const [orderSide] = testPod(render('order', EXTERNAL)).spec.containers;
    expect(envEntry(orderSide, 'ORDER_URL')?.value).toBe('http://order:3001');
    expect(envEntry(orderSide, 'INVENTORY_URL')?.value).toBe('http://inventory:3002');
    expect(render('inventory', { ...EXTERNAL, 'tests.enabled': false }).some((d) => d.kind === 'Pod')).toBe(false);
  });

  it('runs the image built by the Dockerfile target of the same name, with its command and port', () => {
    for (const chart of CHARTS) {
      const image = readImageConfig(join(root, 'Dockerfile'), chart);
      const [container] = deployment(render(chart, EXTERNAL)).spec.template.spec.containers;
      expect(container.image).toBe(`eo-${chart}:0.1.0`);
      expect(container.args).toEqual(image.cmd);
      expect(container.command).toBeUndefined(); // tini stays PID 1
      expect(String(container.ports?.[0].containerPort)).toBe(image.expose[0]);
      expect(envEntry(container, 'PORT')?.value).toBe(image.env.PORT);
      expect(image.user).toBe('1000:1000');
    }
  });

  it('renders NOTES.txt with how to reach the service and where its Redis is', () => {
    const bundled = renderNotes('inventory', { 'redis.bundled.enabled': true });
    expect(bundled).toContain('inventory 0.1.0 is deployed as inventory in namespace default (3 replicas)');
    expect(bundled).toContain('--set redis.url=redis://inventory-redis:6379');
    expect(bundled).toContain('helm test inventory');
    expect(renderNotes('order', EXTERNAL)).toContain('URL from Secret order-redis-url');
    expect(renderNotes('inventory', { ...EXTERNAL, replicaCount: 1 })).toContain('WARNING: a single inventory replica');
  });
});

describe('values.schema.json', () => {
  it('refuses a negative replicaCount', () => {
    for (const chart of CHARTS)
      expect(fails(chart, { ...EXTERNAL, replicaCount: -1 })).toMatch(/replicaCount: Must be greater than or equal to 0/);
  });

  it('refuses a release without Redis, in helm template and in helm lint', () => {
    for (const chart of CHARTS) {
      expect(fails(chart, {})).toMatch(/redis\.url: String length must be greater than or equal to 1/);
      const lint = runHelm(['lint', '--strict', charts[chart]]);
      expect(lint.status).not.toBe(0);
      expect(lint.stdout).toMatch(/redis\.url: String length must be greater than or equal to 1/);
    }
  });

  it('refuses typos, bad URLs and out-of-range settings before anything reaches the cluster', () => {
    expect(fails('inventory', { ...EXTERNAL, replicacount: 3 })).toMatch(/Additional property replicacount is not allowed/);
    expect(fails('inventory', { ...EXTERNAL, 'config.LOCK_TTL': 5000 })).toMatch(/Additional property LOCK_TTL is not allowed/);
    expect(fails('inventory', { ...EXTERNAL, 'config.LOCK_TTL_MS': 50 })).toMatch(/LOCK_TTL_MS: Must be greater than or equal to 100/);
    expect(fails('inventory', { 'redis.url': 'http://redis:6379' })).toMatch(/redis\.url: Does not match pattern/);
    expect(fails('order', { ...EXTERNAL, 'redis.bundled.appendfsync': 'sometimes' })).toMatch(/appendfsync/);
    expect(fails('order', { ...EXTERNAL, 'datadog.admissionController.configMode': 'magic' })).toMatch(/configMode/);
    // Test-only fault injection has no place in a chart.
    expect(fails('inventory', { ...EXTERNAL, 'config.INVENTORY_FAIL_SKU_PREFIX': 'X' })).toMatch(
      /INVENTORY_FAIL_SKU_PREFIX is not allowed/,
    );
  });

  it('refuses two Redis sources at once, and WAIT settings that cannot work', () => {
    expect(fails('inventory', { ...EXTERNAL, 'redis.bundled.enabled': true })).toMatch(
      /set exactly one of redis\.url, redis\.existingSecret, redis\.sentinel\.hosts or redis\.bundled\.enabled/,
    );
    expect(fails('inventory', { ...EXTERNAL, 'redis.sentinel.hosts': '{s-0:26379}' })).toMatch(/set exactly one of/);
    expect(fails('order', { ...EXTERNAL, 'redis.sentinel.passwordSecret': 'x' })).toMatch(/passwordSecret needs redis\.sentinel\.hosts/);
    expect(fails('order', { ...EXTERNAL, 'redis.waitTimeoutMs': 5000 })).toMatch(/waitTimeoutMs \(5000\) must be less than/);
    expect(fails('order', { ...EXTERNAL, 'redis.waitReplicas': -1 })).toMatch(/waitReplicas/);
    expect(fails('order', { 'redis.sentinel.hosts': '{no-port}' })).toMatch(/hosts\.0: Does not match pattern/);
  });

  it.each(['order', 'inventory'] as ChartService[])(
    'of %s is what tools/src/charts/chart-schema.ts generates (npm run charts:schema)',
    (service) => {
      expect(JSON.parse(readFileSync(schemaPath(service, root), 'utf8'))).toEqual(chartValuesSchema(service));
    },
  );

  it("bounds each service setting exactly as the service's own config loader does", () => {
    const loaders: Record<ChartService, (env: Record<string, string>) => unknown> = {
      order: loadOrderConfig,
      inventory: loadInventoryConfig,
    };
    for (const [service, settings] of Object.entries(SERVICE_CONFIG) as Array<[ChartService, (typeof SERVICE_CONFIG)[ChartService]]>) {
      for (const [name, setting] of Object.entries(settings)) {
        if ('enum' in setting) {
          for (const value of setting.enum) expect(() => loaders[service]({ [name]: value })).not.toThrow();
          let refused: unknown;
          try {
            loaders[service]({ [name]: 'neither' });
          } catch (e) {
            refused = e;
          }
          expect({ name, error: refused instanceof ConfigError ? refused.variable : refused }).toEqual({ name, error: name });
          continue;
        }
        const { minimum, maximum } = setting;
        // RETRY_MAX_MS must also be ≥ RETRY_BASE_MS: test each with the other out of the way.
        const others: Record<string, Record<string, string>> = {
          RETRY_MAX_MS: { RETRY_BASE_MS: '1' },
          RETRY_BASE_MS: { RETRY_MAX_MS: '86400000' },
        };
        const base = others[name] ?? {};
        const load = (value: number): unknown => loaders[service]({ ...base, [name]: String(value) });
        expect(() => load(minimum)).not.toThrow();
        expect(() => load(maximum)).not.toThrow();
        for (const outside of [minimum - 1, maximum + 1]) {
          let error: unknown;
          try {
            load(outside);
          } catch (e) {
            error = e;
          }
          expect({ name, outside, error: error instanceof ConfigError ? error.variable : error }).toEqual({ name, outside, error: name });
        }
      }
    }
  });
});
