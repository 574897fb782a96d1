import { ConfigError } from '@eo/platform';
import { loadOrderConfig } from './config';

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('loadOrderConfig', () => {
  it('defaults to port 3001, a 5 s recovery grace and a 24 h idempotency TTL', () => {
    const config = loadOrderConfig({});
    expect(config).toMatchObject({ service: 'order', port: 3001, recoveryGraceMs: 5000, idempotencyTtlSeconds: 86_400 });
  });

  it('reads the order settings from the environment', () => {
    const config = loadOrderConfig({ RECOVERY_GRACE_MS: '250', IDEMPOTENCY_TTL_SECONDS: '3600', PORT: '0' });
    expect(config).toMatchObject({ port: 0, recoveryGraceMs: 250, idempotencyTtlSeconds: 3600 });
  });

  it.each([
    ['RECOVERY_GRACE_MS', '99'],
    ['RECOVERY_GRACE_MS', '3600001'],
    ['RECOVERY_GRACE_MS', 'soon'],
    ['IDEMPOTENCY_TTL_SECONDS', '1.5'],
    ['PORT', 'abc'],
    ['ADMIN_TOKEN', 'short'],
    ['ADMIN_TOKEN', 'has a space in it, sixteen+'],
  ])('refuses %s=%s with an error naming the variable', (variable, value) => {
    const error = thrownBy(() => loadOrderConfig({ [variable]: value }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as ConfigError).message).toMatch(new RegExp(`^${variable} `));
  });

  it('turns the admin API on with an ADMIN_TOKEN of at least 16 visible characters, off without one', () => {
    expect(loadOrderConfig({}).adminToken).toBeUndefined();
    expect(loadOrderConfig({ ADMIN_TOKEN: '0123456789abcdef' }).adminToken).toBe('0123456789abcdef');
  });
});
