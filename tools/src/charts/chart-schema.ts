/**
 * The values.schema.json of both service charts, from one definition: the common values (whose
 * defaults live in charts/common/values.yaml) plus each service's `config`. Helm only reads a
 * chart's own values.schema.json, so the two files are generated rather than written twice;
 * `npm run charts:schema` rewrites them and a deploy test fails when a committed file drifts.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@eo/local';

/** The services that have a chart. */
export type ChartService = 'order' | 'inventory';

type Schema = Record<string, unknown>;

const int = (minimum: number, maximum?: number, description?: string): Schema => ({
  type: 'integer',
  minimum,
  ...(maximum === undefined ? {} : { maximum }),
  ...(description === undefined ? {} : { description }),
});
const str = (extra: Schema = {}): Schema => ({ type: 'string', ...extra });
const bool: Schema = { type: 'boolean' };
const object = (properties: Record<string, Schema>, extra: Schema = {}): Schema => ({
  type: 'object',
  additionalProperties: false,
  properties,
  ...extra,
});
const freeObject: Schema = { type: 'object' };
const stringMap: Schema = { type: 'object', additionalProperties: { type: 'string' } };

/**
 * Each service's environment settings with the bounds its config loader enforces (order/src/config.ts,
 * inventory/src/config.ts), so a bad value fails `helm install` instead of crash-looping the pods.
 * A deploy test checks these bounds against the loaders.
 */
/** Both services read it: the order service caps Idempotency-Key lifetimes by it, inventory's commits start it. */
const RETENTION = {
  minimum: 1000,
  maximum: 31_536_000_000,
  description: 'how long an order is kept once terminal (same value for both services)',
};

/** An integer setting with its bounds, or a setting that takes one of a few words. */
export type ServiceSetting = { minimum: number; maximum: number; description: string } | { enum: readonly string[]; description: string };

export const SERVICE_CONFIG: Record<ChartService, Record<string, ServiceSetting>> = {
  order: {
    RECOVERY_GRACE_MS: {
      minimum: 100,
      maximum: 3_600_000,
      description: 'after acceptance, when an order becomes due for the recovery sweep',
    },
    IDEMPOTENCY_TTL_SECONDS: { minimum: 60, maximum: 2_592_000, description: 'lifetime of an Idempotency-Key record' },
    ORDER_RETENTION_MS: RETENTION,
  },
  inventory: {
    LOCK_TTL_MS: { minimum: 100, maximum: 3_600_000, description: 'processing lock TTL, renewed every TTL/3 while work runs' },
    SWEEP_INTERVAL_MS: { minimum: 50, maximum: 3_600_000, description: 'backlog sweep period (±20 % jitter)' },
    SWEEP_BATCH: { minimum: 1, maximum: 10_000, description: 'backlog entries taken per sweep round' },
    MAX_ATTEMPTS: { minimum: 1, maximum: 1_000, description: 'attempts before an order is FAILED' },
    RETRY_BASE_MS: { minimum: 1, maximum: 3_600_000, description: 'first retry backoff' },
    RETRY_MAX_MS: { minimum: 1, maximum: 86_400_000, description: 'backoff cap (at least RETRY_BASE_MS)' },
    INVENTORY_WORK_DELAY_MS: { minimum: 0, maximum: 3_600_000, description: 'simulated downstream call between claim and commit' },
    SHUTDOWN_TIMEOUT_MS: { minimum: 0, maximum: 3_600_000, description: 'how long SIGTERM waits for in-flight work' },
    CLAIM_MODE: { enum: ['race', 'affinity'], description: 'race: every replica claims each order; affinity: its rendezvous owner first' },
    CLAIM_HEDGE_MS: {
      minimum: 10,
      maximum: 60_000,
      description: 'affinity: how long the runner-up waits before claiming an order its owner did not finish',
    },
    ORDER_RETENTION_MS: RETENTION,
  },
};

const probe = object({
  path: str({ pattern: '^/' }),
  periodSeconds: int(1),
  timeoutSeconds: int(1),
  failureThreshold: int(1),
});

const image = (repositoryRequired: boolean): Schema =>
  object(
    {
      repository: str({ minLength: 1 }),
      // `--set image.tag=1.2` arrives as a number.
      tag: { type: ['string', 'number'] },
      digest: str({ pattern: '^(sha256:[a-f0-9]{64})?$' }),
      pullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] },
    },
    repositoryRequired ? { required: ['repository'] } : {},
  );

const redis = object(
  {
    url: str({
      pattern: '^$|^(rediss?|rediss?\\+sentinel)://.+',
      description: 'redis://, rediss:// or redis+sentinel://host:26379,host2:26379/mymaster (stored in a Secret)',
    }),
    existingSecret: str({ description: 'a Secret holding the full Redis URL under existingSecretKey' }),
    existingSecretKey: str({ minLength: 1 }),
    sentinel: object({
      hosts: { type: 'array', items: str({ pattern: '^[^,/@\\s]+:[0-9]{1,5}$' }), description: 'host:port of each Sentinel' },
      masterName: str({ pattern: '^[A-Za-z0-9_.-]+$' }),
      passwordSecret: str({ description: 'a Secret holding the password of the data nodes and Sentinels (REDIS_PASSWORD)' }),
      passwordSecretKey: str({ minLength: 1 }),
    }),
    waitReplicas: {
      type: ['integer', 'null'],
      minimum: 0,
      maximum: 16,
      description: 'REDIS_WAIT_REPLICAS; null: 1 behind Sentinel, else 0',
    },
    waitTimeoutMs: int(10, 60_000, 'REDIS_WAIT_TIMEOUT_MS (less than commandTimeoutMs)'),
    namespace: str({ pattern: '^$|^[A-Za-z0-9_.-]{1,64}$', description: 'REDIS_NAMESPACE' }),
    commandTimeoutMs: int(100, 600_000),
    bundled: object({
      enabled: bool,
      image: image(true),
      appendfsync: { enum: ['always', 'everysec', 'no'], description: 'always: no accepted order lost if Redis crashes' },
      persistence: object({ size: str({ pattern: '^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$' }), storageClass: str() }),
      resources: freeObject,
    }),
  },
  {
    description: 'Exactly one of url, existingSecret, sentinel.hosts or bundled.enabled=true (two are refused at render time)',
    // Without the bundled Redis and without an existing Secret, redis.url is required. (An anyOf
    // over the three would say the same, but Helm then reports a confusing "bundled.enabled does
    // not match: true"; this way a release without Redis fails with
    // "redis.url: String length must be greater than or equal to 1".)
    if: {
      properties: {
        bundled: { properties: { enabled: { const: false } } },
        existingSecret: { maxLength: 0 },
        sentinel: { properties: { hosts: { maxItems: 0 } } },
      },
    },
    then: { required: ['url'], properties: { url: { minLength: 1 } } },
  },
);

/** The JSON schema of `charts/<service>/values.yaml` (after the library's defaults are imported). */
export function chartValuesSchema(service: ChartService): Schema {
  const config = Object.fromEntries(
    Object.entries(SERVICE_CONFIG[service]).map(([name, setting]) => [
      name,
      'enum' in setting
        ? { enum: setting.enum, description: setting.description }
        : int(setting.minimum, setting.maximum, setting.description),
    ]),
  );
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: `${service} chart values`,
    type: 'object',
    additionalProperties: false,
    // Only keys of the service chart's own values.yaml: `helm lint` checks that file before the
    // library's defaults are imported.
    required: ['replicaCount', 'image', 'args', 'containerPort', 'redis', 'service'],
    properties: {
      // Helm's own keys: the library chart's scope and globals.
      global: freeObject,
      common: freeObject,
      replicaCount: int(0, undefined, 'inventory: how many replicas race for each order (3 by default)'),
      image: image(true),
      imagePullSecrets: { type: 'array', items: object({ name: str({ minLength: 1 }) }, { required: ['name'] }) },
      nameOverride: str(),
      fullnameOverride: str(),
      args: { type: 'array', minItems: 1, items: str() },
      containerPort: int(1, 65_535),
      redis,
      ...(service === 'order'
        ? {
            admin: object({
              existingSecret: str({ description: 'a Secret holding ADMIN_TOKEN (admin API on when set)' }),
              existingSecretKey: str({ minLength: 1 }),
            }),
          }
        : {}),
      logLevel: { enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] },
      config: object(config),
      extraEnv: { type: 'array', items: { type: 'object', required: ['name'], properties: { name: str({ minLength: 1 }) } } },
      service: object(
        { type: { enum: ['ClusterIP', 'NodePort', 'LoadBalancer'] }, port: int(1, 65_535), annotations: stringMap },
        { required: ['port'] },
      ),
      serviceAccount: object({ create: bool, name: str(), annotations: stringMap }),
      podAnnotations: stringMap,
      podLabels: stringMap,
      podSecurityContext: freeObject,
      securityContext: freeObject,
      resources: freeObject,
      probes: object({ startup: probe, liveness: probe, readiness: probe }),
      shutdown: object({ preStopSleepSeconds: int(0, 300), forceExitAfterMs: int(0) }),
      terminationGracePeriodSeconds: { type: ['integer', 'null'], minimum: 0 },
      topologySpreadConstraints: {
        type: 'array',
        items: object(
          { topologyKey: str({ minLength: 1 }), maxSkew: int(1), whenUnsatisfiable: { enum: ['DoNotSchedule', 'ScheduleAnyway'] } },
          { required: ['topologyKey', 'maxSkew', 'whenUnsatisfiable'] },
        ),
      },
      podDisruptionBudget: object({
        enabled: bool,
        maxUnavailable: { type: ['integer', 'string'], minimum: 0, pattern: '^[0-9]+%$' },
        minAvailable: { type: ['integer', 'string', 'null'], minimum: 0, pattern: '^[0-9]+%$' },
      }),
      autoscaling: object({ enabled: bool, minReplicas: int(1), maxReplicas: int(1), targetCPUUtilizationPercentage: int(1, 100) }),
      nodeSelector: stringMap,
      tolerations: { type: 'array', items: freeObject },
      affinity: freeObject,
      datadog: object({
        enabled: bool,
        env: str({ minLength: 1 }),
        service: str(),
        version: str(),
        agentHost: str(),
        traceAgentPort: int(1, 65_535),
        dogstatsdPort: int(1, 65_535),
        logsInjection: bool,
        logSource: str({ minLength: 1 }),
        admissionController: object({ enabled: bool, configMode: { enum: ['', 'hostip', 'service', 'socket'] } }),
      }),
      tests: object({
        enabled: bool,
        orderUrl: str({ pattern: '^$|^https?://' }),
        inventoryUrl: str({ pattern: '^$|^https?://' }),
        timeoutSeconds: int(10, 3600),
      }),
    },
  };
}

/** Path of a chart's values.schema.json. */
export function schemaPath(service: ChartService, root: string = repoRoot()): string {
  return join(root, 'charts', service, 'values.schema.json');
}

/** Writes both charts' values.schema.json, formatted by the repository's Prettier. */
export function writeChartSchemas(root: string = repoRoot()): string[] {
  const written = (['order', 'inventory'] as const).map((service) => {
    const path = schemaPath(service, root);
    writeFileSync(path, `${JSON.stringify(chartValuesSchema(service), null, 2)}\n`);
    return path;
  });
  const prettier = spawnSync(join(root, 'node_modules', '.bin', 'prettier'), ['--write', ...written], { cwd: root, stdio: 'inherit' });
  if (prettier.status !== 0) throw new Error('prettier failed on the generated schemas');
  return written;
}

if (require.main === module) {
  for (const path of writeChartSchemas()) process.stdout.write(`wrote ${path}\n`);
}
