import { ConfigError } from '../config/env';
import { redisOptionsFromUrl } from './connection';

const policy = { connectionName: 't', offlineQueue: true, commandTimeoutMs: 1000 };

describe('redisOptionsFromUrl', () => {
  it('reads host, port, credentials and database from a redis:// URL', () => {
    expect(redisOptionsFromUrl('redis://user:p%40ss@cache.local:6380/2', policy)).toMatchObject({
      host: 'cache.local',
      port: 6380,
      username: 'user',
      password: 'p@ss',
      db: 2,
      tls: undefined,
    });
  });

  it('turns on TLS for rediss://', () => {
    expect(redisOptionsFromUrl('rediss://cache.local', policy)).toMatchObject({ host: 'cache.local', port: 6379, tls: {} });
  });

  it('reads sentinels and the master name from redis+sentinel://', () => {
    expect(redisOptionsFromUrl('redis+sentinel://:secret@s1:26379,s2:26380,s3/mymaster/1', policy)).toMatchObject({
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
        { host: 's3', port: 26379 },
      ],
      name: 'mymaster',
      password: 'secret',
      sentinelPassword: 'secret',
      db: 1,
    });
  });

  it('fails fast (no offline queue) for request paths and queues for background ones', () => {
    expect(redisOptionsFromUrl('redis://h', { ...policy, offlineQueue: false })).toMatchObject({
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
    });
    expect(redisOptionsFromUrl('redis://h', policy)).toMatchObject({ enableOfflineQueue: true, maxRetriesPerRequest: null });
  });

  it('follows Sentinel failovers as they are announced and reconnects when a node refuses writes', () => {
    const options = redisOptionsFromUrl('redis+sentinel://s1:26379/mymaster', policy);
    expect(options.failoverDetector).toBe(true);
    const reconnect = options.reconnectOnError!;
    expect(reconnect(new Error("READONLY You can't write against a read only replica."))).toBe(2);
    expect(reconnect(new Error("ERR Error running script: READONLY You can't write against a read only replica."))).toBe(2);
    expect(reconnect(new Error('LOADING Redis is loading the dataset in memory'))).toBe(2);
    expect(reconnect(new Error('ERR commit-order: expected 2 stock keys, got 1'))).toBe(false);
  });

  it('uses the CA and client certificate for rediss:// and rediss+sentinel://', () => {
    const tls = { ca: Buffer.from('ca'), cert: Buffer.from('cert'), key: Buffer.from('key') };
    expect(redisOptionsFromUrl('rediss://h', { ...policy, tls }).tls).toEqual(tls);
    expect(redisOptionsFromUrl('rediss+sentinel://s1/m', { ...policy, tls })).toMatchObject({ tls, enableTLSForSentinelMode: true });
    expect(redisOptionsFromUrl('redis://h', { ...policy, tls }).tls).toBeUndefined();
  });

  it('takes REDIS_PASSWORD over the URL password, for the Sentinels too', () => {
    expect(redisOptionsFromUrl('redis://u:old@h', { ...policy, password: 'new' })).toMatchObject({ username: 'u', password: 'new' });
    expect(redisOptionsFromUrl('redis+sentinel://s1/m', { ...policy, password: 'new' })).toMatchObject({
      password: 'new',
      sentinelPassword: 'new',
    });
  });

  it('never repeats a password in its errors', () => {
    expect(() => redisOptionsFromUrl('redis://user:hunter2@bad host/0', policy)).toThrow(/user:\*\*\*@/);
    expect(() => redisOptionsFromUrl('redis://user:hunter2@bad host/0', policy)).not.toThrow(/hunter2/);
  });

  it('names REDIS_URL when the database is not a number', () => {
    expect(() => redisOptionsFromUrl('redis://h/abc', policy)).toThrow(ConfigError);
    expect(() => redisOptionsFromUrl('redis://h/abc', policy)).toThrow(/^REDIS_URL/);
  });
});
