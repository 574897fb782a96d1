import { ConfigError, intVar, loadCommonConfig, type CommonConfig, type Env } from '@eo/platform';

/** The order service's settings: the shared ones plus how accepted orders are recorded. */
export interface OrderConfig extends CommonConfig {
  /** How long after acceptance an order becomes due for the inventory replicas' recovery sweep. */
  recoveryGraceMs: number;
  /** How long an `Idempotency-Key` keeps naming the order it created. */
  idempotencyTtlSeconds: number;
  /** `ADMIN_TOKEN`: the bearer token of the admin API (list orders by status, retry FAILED ones); off when unset. */
  adminToken: string | undefined;
}

/** Reads `ADMIN_TOKEN`: at least 16 visible characters, so it cannot be guessed like a word. */
function adminToken(env: Env): string | undefined {
  const token = env.ADMIN_TOKEN;
  if (token === undefined || token === '') return undefined;
  if (!/^[\x21-\x7e]{16,256}$/.test(token)) {
    throw new ConfigError('ADMIN_TOKEN', 'must be 16 to 256 visible ASCII characters without spaces (e.g. `openssl rand -hex 32`)');
  }
  return token;
}

/** Reads {@link OrderConfig} from `env`; throws `ConfigError` naming the first bad variable. */
export function loadOrderConfig(env: Env): OrderConfig {
  return {
    ...loadCommonConfig(env, { service: 'order', port: 3001 }),
    recoveryGraceMs: intVar(env, 'RECOVERY_GRACE_MS', 5000, 100, 3_600_000),
    // At least a minute (a shorter key cannot cover a client's retries), at most 30 days.
    idempotencyTtlSeconds: intVar(env, 'IDEMPOTENCY_TTL_SECONDS', 86_400, 60, 2_592_000),
    adminToken: adminToken(env),
  };
}
