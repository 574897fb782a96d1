import { RedisKeys } from '@eo/contract';

/**
 * Commands the services send, outside scripts (connection set-up, readiness, reads, scripts,
 * Pub/Sub, WAIT) and inside them (what the Lua files call).
 */
const SERVICE_COMMANDS = [
  'auth',
  'hello',
  'ping',
  'info',
  'select',
  'quit',
  'client|setname',
  'evalsha',
  'eval',
  'wait',
  'subscribe',
  'unsubscribe',
  'publish',
  'get',
  'set',
  'del',
  'exists',
  'pexpire',
  'persist',
  'scan',
  'time',
  'hget',
  'hmget',
  'hgetall',
  'hset',
  'hsetnx',
  'hdel',
  'hincrby',
  'zadd',
  'zrem',
  'zcard',
  'zrange',
  'zrangebyscore',
  'zrangebylex',
  'zremrangebyscore',
] as const;

/**
 * The rules of a Redis ACL user that can run the services and nothing else: the commands above,
 * only on the services' keys and channels (those under `namespace`, when set).
 *
 * `ACL SETUSER <name> on >password <rules…>`, or `user <name> on >password <rules…>` in an ACL file.
 */
export function serviceAclRules(namespace?: string): string[] {
  const keys = new RedisKeys(namespace);
  const keyPatterns = namespace
    ? [`~${namespace}:*`]
    : [
        keys.order('*'),
        keys.pending.replace('pending', '*'),
        keys.idempotency('*'),
        keys.lock('*'),
        `${keys.stockPrefix}*`,
        keys.workers,
      ].map((k) => `~${k}`);
  const channels = namespace
    ? [`&${namespace}:*`]
    : [keys.orderUpdatesChannel, keys.orderStatusChannel, keys.replicaStatusChannel('*')].map((c) => `&${c}`);
  return ['resetkeys', ...keyPatterns, 'resetchannels', ...channels, '-@all', ...SERVICE_COMMANDS.map((command) => `+${command}`)];
}
