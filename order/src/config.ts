import { intVar, loadCommonConfig, type CommonConfig, type Env } from '@eo/core';

/** The order service's settings: the shared ones plus how accepted orders are recorded. */
export interface OrderConfig extends CommonConfig {
  /** How long after acceptance an order becomes due for the inventory replicas' recovery sweep. */
  recoveryGraceMs: number;
  /** How long an `Idempotency-Key` keeps naming the order it created. */
  idempotencyTtlSeconds: number;
}

/** Reads {@link OrderConfig} from `env`; throws `ConfigError` naming the first bad variable. */
export function loadOrderConfig(env: Env): OrderConfig {
  return {
    ...loadCommonConfig(env, { service: 'order', port: 3001 }),
    recoveryGraceMs: intVar(env, 'RECOVERY_GRACE_MS', 5000, 100, 3_600_000),
    // At least a minute (a shorter key cannot cover a client's retries), at most 30 days.
    idempotencyTtlSeconds: intVar(env, 'IDEMPOTENCY_TTL_SECONDS', 86_400, 60, 2_592_000),
  };
}
