import type { ClaimMode, ConsumerTuning } from '@eo/exactly-once';
import { type CommonConfig, ConfigError, type Env, intVar, loadCommonConfig, stringVar } from '@eo/platform';

/** Inventory service settings (README "Configuration"): the consumer's tuning plus the simulated work. */
export interface InventoryConfig extends CommonConfig, ConsumerTuning {
  workDelayMs: number;
  /**
   * Test-only fault injection: the work step throws for orders holding a SKU with this prefix, so
   * retries, backoff and FAILED can be proven end to end. Refused when NODE_ENV=production.
   */
  failSkuPrefix: string | undefined;
}

/** Reads the inventory configuration; throws {@link ConfigError} naming the first bad variable. */
export function loadInventoryConfig(env: Env): InventoryConfig {
  const config: InventoryConfig = {
    ...loadCommonConfig(env, { service: 'inventory', port: 3002 }),
    lockTtlMs: intVar(env, 'LOCK_TTL_MS', 10_000, 100, 3_600_000),
    sweepIntervalMs: intVar(env, 'SWEEP_INTERVAL_MS', 2_000, 50, 3_600_000),
    sweepBatch: intVar(env, 'SWEEP_BATCH', 100, 1, 10_000),
    maxAttempts: intVar(env, 'MAX_ATTEMPTS', 5, 1, 1_000),
    retryBaseMs: intVar(env, 'RETRY_BASE_MS', 500, 1, 3_600_000),
    retryMaxMs: intVar(env, 'RETRY_MAX_MS', 30_000, 1, 86_400_000),
    workDelayMs: intVar(env, 'INVENTORY_WORK_DELAY_MS', 0, 0, 3_600_000),
    shutdownTimeoutMs: intVar(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 3_600_000),
    claimMode: stringVar(env, 'CLAIM_MODE', 'race', /^(race|affinity)$/, '"race" or "affinity"') as ClaimMode,
    hedgeMs: intVar(env, 'CLAIM_HEDGE_MS', 250, 10, 60_000),
    failSkuPrefix: stringVar(env, 'INVENTORY_FAIL_SKU_PREFIX', '', /^[A-Za-z0-9._:-]{1,64}$/, 'a SKU prefix') || undefined,
  };
  if (config.failSkuPrefix !== undefined && env.NODE_ENV === 'production') {
    throw new ConfigError('INVENTORY_FAIL_SKU_PREFIX', 'is a test-only fault injection and must not be set when NODE_ENV=production');
  }
  if (config.retryMaxMs < config.retryBaseMs) {
    throw new ConfigError('RETRY_MAX_MS', `must be at least RETRY_BASE_MS (${config.retryBaseMs}), got ${config.retryMaxMs}`);
  }
  return config;
}

/** Injection token of the {@link InventoryConfig}. */
export const INVENTORY_CONFIG = Symbol('INVENTORY_CONFIG');
