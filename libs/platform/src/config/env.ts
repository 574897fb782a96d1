import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** Thrown at start when an environment variable is invalid; the message names the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

/** The environment as read by the config loaders (a plain record, so tests can pass their own). */
export type Env = Record<string, string | undefined>;

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** Reads an integer variable within [min, max], or its default when unset. */
export function intVar(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!/^-?\d+$/.test(value)) throw new ConfigError(name, `must be an integer, got "${value}"`);
  const n = Number(value);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** Reads a string variable matching `pattern`, or its default when unset. */
export function stringVar(env: Env, name: string, fallback: string, pattern?: RegExp, hint?: string): string {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (pattern && !pattern.test(value)) throw new ConfigError(name, `must be ${hint ?? `like ${pattern}`}, got "${value}"`);
  return value;
}

/** Reads `true/false/1/0`, or the default when unset. */
export function boolVar(env: Env, name: string, fallback: boolean): boolean {
  const value = raw(env, name)?.toLowerCase();
  if (value === undefined) return fallback;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ConfigError(name, `must be true or false, got "${value}"`);
}

/** PEM files for TLS to Redis: a private CA, and a client certificate for servers that ask for one. */
export interface RedisTlsFiles {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

function pemFile(env: Env, name: string): Buffer | undefined {
  const path = raw(env, name);
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(name, `names a file that cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}): ${path}`);
  }
}

/** Reads `REDIS_TLS_CA_FILE`, `REDIS_TLS_CERT_FILE` and `REDIS_TLS_KEY_FILE`; undefined when none is set. */
function redisTlsFiles(env: Env, redisUrl: string): RedisTlsFiles | undefined {
  const files = {
    ca: pemFile(env, 'REDIS_TLS_CA_FILE'),
    cert: pemFile(env, 'REDIS_TLS_CERT_FILE'),
    key: pemFile(env, 'REDIS_TLS_KEY_FILE'),
  };
  if (!files.ca && !files.cert && !files.key) return undefined;
  const variable = files.ca ? 'REDIS_TLS_CA_FILE' : files.cert ? 'REDIS_TLS_CERT_FILE' : 'REDIS_TLS_KEY_FILE';
  if (!redisUrl.startsWith('rediss'))
    throw new ConfigError(variable, 'is set but REDIS_URL does not use TLS (rediss:// or rediss+sentinel://)');
  if (!files.cert !== !files.key) {
    throw new ConfigError(
      files.cert ? 'REDIS_TLS_KEY_FILE' : 'REDIS_TLS_CERT_FILE',
      'must be set together with the other of REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE',
    );
  }
  return files;
}

/** How long a terminal order is kept when `ORDER_RETENTION_MS` is unset: 7 days. */
export const DEFAULT_ORDER_RETENTION_MS = 7 * 24 * 3_600_000;

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** Settings every service shares: Redis, HTTP port, identity for logs and Datadog's unified tags. */
export interface CommonConfig {
  redisUrl: string;
  redisNamespace: string | undefined;
  redisCommandTimeoutMs: number;
  /** `REDIS_WAIT_REPLICAS`: replicas that must confirm a write before it is reported (0: the master's reply is enough). */
  redisWaitReplicas: number;
  /** `REDIS_WAIT_TIMEOUT_MS`: how long a write waits for those confirmations. */
  redisWaitTimeoutMs: number;
  redisTls: RedisTlsFiles | undefined;
  /** `REDIS_PASSWORD`: replaces the password of `REDIS_URL` (and of its Sentinels), so it can come from its own Secret. */
  redisPassword: string | undefined;
  /** `ORDER_RETENTION_MS`: how long an order is kept once terminal (PENDING orders never expire). */
  orderRetentionMs: number;
  port: number;
  service: string;
  env: string;
  version: string;
  replica: string;
  logLevel: (typeof LOG_LEVELS)[number];
  /** `DD_TRACE_ENABLED`, read as dd-trace reads it. */
  tracing: boolean;
  /** Where DogStatsD metrics go when tracing is off (with tracing on, dd-trace's client decides). */
  dogstatsd: { host: string; port: number };
}

/** Reads {@link CommonConfig}; throws {@link ConfigError} naming the first bad variable. */
export function loadCommonConfig(env: Env, defaults: { service: string; port: number }): CommonConfig {
  // Locally a Redis on 6379 is a fine guess; in production an unset REDIS_URL is a mistake, not a default.
  if (env.NODE_ENV === 'production' && raw(env, 'REDIS_URL') === undefined) {
    throw new ConfigError('REDIS_URL', 'must be set when NODE_ENV=production (redis://, rediss:// or redis+sentinel://)');
  }
  const redisUrl = stringVar(env, 'REDIS_URL', 'redis://127.0.0.1:6379');
  if (!/^(rediss?|redis\+sentinel|rediss\+sentinel):\/\/./.test(redisUrl)) {
    throw new ConfigError('REDIS_URL', `must start with redis://, rediss:// or redis+sentinel://, got "${maskRedisUrl(redisUrl)}"`);
  }
  const namespace = raw(env, 'REDIS_NAMESPACE');
  if (namespace !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(namespace)) {
    throw new ConfigError('REDIS_NAMESPACE', `must be 1 to 64 characters of A-Z a-z 0-9 _ . -, got "${namespace}"`);
  }
  const logLevel = stringVar(env, 'LOG_LEVEL', 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const redisCommandTimeoutMs = intVar(env, 'REDIS_COMMAND_TIMEOUT_MS', 5000, 100, 600_000);
  const redisWaitTimeoutMs = intVar(env, 'REDIS_WAIT_TIMEOUT_MS', 1000, 10, 60_000);
  // A WAIT that the client times out first would be reported as a Redis failure, not as unconfirmed.
  if (redisWaitTimeoutMs >= redisCommandTimeoutMs) {
    throw new ConfigError(
      'REDIS_WAIT_TIMEOUT_MS',
      `must be less than REDIS_COMMAND_TIMEOUT_MS (${redisCommandTimeoutMs}), got ${redisWaitTimeoutMs}`,
    );
  }
  return {
    redisUrl,
    redisNamespace: namespace,
    redisCommandTimeoutMs,
    redisWaitReplicas: intVar(env, 'REDIS_WAIT_REPLICAS', 0, 0, 16),
    redisWaitTimeoutMs,
    redisTls: redisTlsFiles(env, redisUrl),
    redisPassword: env.REDIS_PASSWORD === undefined || env.REDIS_PASSWORD === '' ? undefined : env.REDIS_PASSWORD,
    orderRetentionMs: intVar(env, 'ORDER_RETENTION_MS', DEFAULT_ORDER_RETENTION_MS, 1000, 365 * 24 * 3_600_000),
    port: intVar(env, 'PORT', defaults.port, 0, 65535),
    service: stringVar(env, 'DD_SERVICE', defaults.service),
    env: stringVar(env, 'DD_ENV', 'local'),
    version: stringVar(env, 'DD_VERSION', '0.1.0'),
    // A replica's name is part of a Pub/Sub channel name and of a space-separated list of them.
    replica: stringVar(env, 'REPLICA_NAME', raw(env, 'HOSTNAME') ?? hostname(), /^\S+$/, 'a name without spaces'),
    logLevel: logLevel as CommonConfig['logLevel'],
    tracing: boolVar(env, 'DD_TRACE_ENABLED', true),
    // The variables dd-trace reads for its own DogStatsD client, with the same precedence.
    dogstatsd: {
      host: stringVar(env, 'DD_DOGSTATSD_HOST', raw(env, 'DD_AGENT_HOST') ?? '127.0.0.1'),
      port: intVar(env, 'DD_DOGSTATSD_PORT', 8125, 1, 65535),
    },
  };
}

/** `url` with its password replaced by `***`, for logs and error messages. */
export function maskRedisUrl(url: string): string {
  return url.replace(/^([a-z+]+:\/\/[^:@/]*:)[^@/]*@/i, '$1***@');
}
