import Redis, { type RedisOptions } from 'ioredis';
import { type CommonConfig, ConfigError, maskRedisUrl, type RedisTlsFiles } from '../config/env';

/** How a connection should behave when Redis is away. */
export interface ConnectionPolicy {
  /** Name shown in `CLIENT LIST` (e.g. `order:commands`). */
  connectionName: string;
  /**
   * Queue commands while disconnected (subscribers, background workers) or fail them at once so an
   * HTTP request can answer 503 instead of hanging.
   */
  offlineQueue: boolean;
  /** Per-command timeout; a command never waits longer than this for its reply. */
  commandTimeoutMs: number;
  /** CA and client certificate for `rediss://` (from `REDIS_TLS_*_FILE`); the system's CAs otherwise. */
  tls?: RedisTlsFiles;
  /** Replaces the URL's password (for the data nodes and the Sentinels alike). */
  password?: string;
}

/**
 * Replies that mean "this node cannot take writes now": a master demoted to replica (READONLY, also
 * inside a script), one still loading its data (LOADING), or a replica cut off from its master
 * (MASTERDOWN). Reconnecting asks Sentinel for the master again, and the command is sent again.
 */
const NOT_WRITABLE = /\b(READONLY|LOADING|MASTERDOWN)\b/;

/**
 * Turns `REDIS_URL` into ioredis options. Accepts `redis://`, `rediss://` (TLS) and
 * `redis+sentinel://[user:pass@]host:port[,host:port…]/<masterName>[/<db>]` (add `rediss+sentinel`
 * for TLS to the data nodes).
 */
export function redisOptionsFromUrl(url: string, policy: ConnectionPolicy): RedisOptions {
  const base: RedisOptions = {
    connectionName: policy.connectionName,
    enableOfflineQueue: policy.offlineQueue,
    commandTimeout: policy.commandTimeoutMs,
    maxRetriesPerRequest: policy.offlineQueue ? null : 1,
    // No auto-pipelining: in `npm run bench` its Pipeline per turn cost more than it saved. The
    // per-order script calls share a socket write per turn through TurnWrites instead.
    // Reconnect forever with a capped backoff: a Redis restart must not leave a replica dead.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    reconnectOnError: (err) => (NOT_WRITABLE.test(err.message) ? 2 : false),
  };
  const tls = { ...policy.tls };
  const sentinel = /^(rediss?)\+sentinel:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/]+)\/([^/]+)(?:\/(\d+))?\/?$/.exec(url);
  if (sentinel) {
    const [, scheme, user, password, hosts, name, db] = sentinel;
    const sentinels = hosts.split(',').map((hostPort) => {
      const [host, port] = hostPort.split(':');
      return { host: host, port: port ? Number(port) : 26379 };
    });
    return {
      ...base,
      sentinels,
      name: decodeURIComponent(name),
      username: user ? decodeURIComponent(user) : undefined,
      password: policy.password ?? (password ? decodeURIComponent(password) : undefined),
      sentinelPassword: policy.password ?? (password ? decodeURIComponent(password) : undefined),
      db: db ? Number(db) : 0,
      // Leave a master as soon as Sentinel announces +switch-master, not when it stops answering:
      // a paused master that comes back would otherwise take writes until Sentinel demotes it.
      failoverDetector: true,
      ...(scheme === 'rediss' ? { tls, enableTLSForSentinelMode: true } : {}),
    };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('REDIS_URL', `is not a valid URL: "${maskRedisUrl(url)}"`);
  }
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new ConfigError('REDIS_URL', `has an invalid database number "${db}"`);
  return {
    ...base,
    host: parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: policy.password ?? (parsed.password ? decodeURIComponent(parsed.password) : undefined),
    db: db === '' ? 0 : Number(db),
    tls: parsed.protocol === 'rediss:' ? tls : undefined,
  };
}

/** The parts of a {@link ConnectionPolicy} that come from the configuration: TLS files and `REDIS_PASSWORD`. */
export function credentialsOf(config: Pick<CommonConfig, 'redisTls' | 'redisPassword'>): Pick<ConnectionPolicy, 'tls' | 'password'> {
  return { tls: config.redisTls, password: config.redisPassword };
}

/** Creates a (not yet connected) ioredis client for `url` with the given policy. */
export function createRedis(url: string, policy: ConnectionPolicy): Redis {
  return new Redis(redisOptionsFromUrl(url, policy));
}
