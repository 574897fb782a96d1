import { ConfigError, loadCommonConfig } from './env';

const load = (env: Record<string, string>) => loadCommonConfig(env, { service: 'svc', port: 3000 });

describe('loadCommonConfig', () => {
  it('falls back to the documented defaults', () => {
    expect(load({ HOSTNAME: 'pod-1' })).toMatchObject({
      redisUrl: 'redis://127.0.0.1:6379',
      redisNamespace: undefined,
      port: 3000,
      service: 'svc',
      env: 'local',
      replica: 'pod-1',
      logLevel: 'info',
      tracing: true,
      dogstatsd: { host: '127.0.0.1', port: 8125 },
    });
  });

  it('sends metrics where dd-trace would: DD_DOGSTATSD_HOST, else DD_AGENT_HOST, and DD_DOGSTATSD_PORT', () => {
    expect(load({ DD_AGENT_HOST: 'agent', DD_DOGSTATSD_PORT: '9125' }).dogstatsd).toEqual({ host: 'agent', port: 9125 });
    expect(load({ DD_AGENT_HOST: 'agent', DD_DOGSTATSD_HOST: 'statsd' }).dogstatsd.host).toBe('statsd');
    expect(load({ DD_TRACE_ENABLED: 'false' }).tracing).toBe(false);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['REDIS_URL', 'http://cache'],
    ['REDIS_NAMESPACE', 'has space'],
    ['LOG_LEVEL', 'loud'],
    ['REDIS_COMMAND_TIMEOUT_MS', '-1'],
    ['DD_DOGSTATSD_PORT', '0'],
    ['DD_TRACE_ENABLED', 'maybe'],
  ])('stops on %s=%s with an error naming the variable', (variable, value) => {
    let error: unknown;
    try {
      load({ [variable]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as Error).message.startsWith(variable)).toBe(true);
  });

  it('asks for no replica confirmations by default, and reads REDIS_WAIT_REPLICAS and REDIS_WAIT_TIMEOUT_MS', () => {
    expect(load({})).toMatchObject({ redisWaitReplicas: 0, redisWaitTimeoutMs: 1000, redisTls: undefined, orderRetentionMs: 604_800_000 });
    expect(load({ REDIS_WAIT_REPLICAS: '2', REDIS_WAIT_TIMEOUT_MS: '250' })).toMatchObject({
      redisWaitReplicas: 2,
      redisWaitTimeoutMs: 250,
    });
  });

  it.each([
    [{ ORDER_RETENTION_MS: '999' }, 'ORDER_RETENTION_MS'],
    [{ REDIS_WAIT_REPLICAS: '-1' }, 'REDIS_WAIT_REPLICAS'],
    [{ REDIS_WAIT_REPLICAS: 'one' }, 'REDIS_WAIT_REPLICAS'],
    [{ REDIS_WAIT_TIMEOUT_MS: '0' }, 'REDIS_WAIT_TIMEOUT_MS'],
    [{ REDIS_WAIT_TIMEOUT_MS: '6000' }, 'REDIS_WAIT_TIMEOUT_MS'],
    [{ REDIS_URL: 'rediss://h', REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' }, 'REDIS_TLS_CA_FILE'],
    [{ REDIS_URL: 'redis://h', REDIS_TLS_CA_FILE: __filename }, 'REDIS_TLS_CA_FILE'],
    [{ REDIS_URL: 'rediss://h', REDIS_TLS_CERT_FILE: __filename }, 'REDIS_TLS_KEY_FILE'],
  ])('stops on %j with an error naming %s', (env, variable) => {
    expect(() => load(env)).toThrow(ConfigError);
    expect(() => load(env)).toThrow(new RegExp(`^${variable} `));
  });

  it('reads the TLS files named by REDIS_TLS_*_FILE', () => {
    const tls = load({
      REDIS_URL: 'rediss://h',
      REDIS_TLS_CA_FILE: __filename,
      REDIS_TLS_CERT_FILE: __filename,
      REDIS_TLS_KEY_FILE: __filename,
    }).redisTls;
    expect(tls?.ca?.toString()).toContain('reads the TLS files');
    expect(tls?.cert).toBeDefined();
  });

  it('masks the password of a REDIS_URL it refuses', () => {
    expect(() => load({ REDIS_URL: 'http://u:secret@h' })).toThrow(/u:\*\*\*@h/);
    expect(() => load({ REDIS_URL: 'http://u:secret@h' })).not.toThrow(/secret/);
  });

  it('refuses to guess a Redis in production: NODE_ENV=production needs REDIS_URL', () => {
    expect(() => load({ NODE_ENV: 'production' })).toThrow(/^REDIS_URL must be set when NODE_ENV=production/);
    expect(load({ NODE_ENV: 'production', REDIS_URL: 'redis://cache:6379' }).redisUrl).toBe('redis://cache:6379');
  });

  it('takes the replica name from REPLICA_NAME before HOSTNAME', () => {
    expect(load({ REPLICA_NAME: 'inventory-2', HOSTNAME: 'h' }).replica).toBe('inventory-2');
    expect(() => load({ REPLICA_NAME: 'inventory 2' })).toThrow(/^REPLICA_NAME must be a name without spaces, got "inventory 2"/);
  });
});
