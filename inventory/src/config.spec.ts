import { ConfigError } from '@eo/platform';
import { loadInventoryConfig } from './config';

describe('loadInventoryConfig', () => {
  it('uses the documented defaults', () => {
    expect(loadInventoryConfig({})).toMatchObject({
      port: 3002,
      service: 'inventory',
      lockTtlMs: 10_000,
      sweepIntervalMs: 2_000,
      maxAttempts: 5,
      workDelayMs: 0,
      shutdownTimeoutMs: 10_000,
    });
  });

  it.each([
    ['LOCK_TTL_MS', 'abc'],
    ['LOCK_TTL_MS', '10'],
    ['SWEEP_INTERVAL_MS', '0'],
    ['MAX_ATTEMPTS', '0'],
    ['INVENTORY_WORK_DELAY_MS', '-5'],
    ['SHUTDOWN_TIMEOUT_MS', '1.5'],
  ])('stops on %s=%s naming the variable', (variable, value) => {
    expect(() => loadInventoryConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadInventoryConfig({ [variable]: value })).toThrow(new RegExp(`^${variable} `));
  });

  it('refuses the test-only fault injection in production', () => {
    expect(loadInventoryConfig({ INVENTORY_FAIL_SKU_PREFIX: 'FAULT-' }).failSkuPrefix).toBe('FAULT-');
    expect(() =>
      loadInventoryConfig({ INVENTORY_FAIL_SKU_PREFIX: 'FAULT-', NODE_ENV: 'production', REDIS_URL: 'redis://cache:6379' }),
    ).toThrow(/^INVENTORY_FAIL_SKU_PREFIX /);
  });

  it('refuses a retry ceiling below the base', () => {
    expect(() => loadInventoryConfig({ RETRY_BASE_MS: '1000', RETRY_MAX_MS: '10' })).toThrow(/^RETRY_MAX_MS /);
  });
});
