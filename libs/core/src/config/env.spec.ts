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

  it('takes the replica name from REPLICA_NAME before HOSTNAME', () => {
    expect(load({ REPLICA_NAME: 'inventory-2', HOSTNAME: 'h' }).replica).toBe('inventory-2');
  });
});
