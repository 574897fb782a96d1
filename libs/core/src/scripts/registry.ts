import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis, Result } from 'ioredis';

/**
 * Every Lua script, by command name. `numberOfKeys` is explicit for all but accept-order, whose
 * optional Idempotency-Key makes the key count vary (the caller passes it first).
 */
export const SCRIPTS = {
  eoAcceptOrder: { file: 'accept-order.lua', numberOfKeys: undefined },
  eoClaimOrder: { file: 'claim-order.lua', numberOfKeys: 4 },
  eoExtendLock: { file: 'extend-lock.lua', numberOfKeys: 2 },
  eoReleaseLock: { file: 'release-lock.lua', numberOfKeys: 2 },
  eoCommitOrder: { file: 'commit-order.lua', numberOfKeys: undefined },
  eoFailAttempt: { file: 'fail-attempt.lua', numberOfKeys: 4 },
  eoDueOrders: { file: 'due-orders.lua', numberOfKeys: 2 },
  eoSetStock: { file: 'set-stock.lua', numberOfKeys: 2 },
  eoRetryOrder: { file: 'retry-order.lua', numberOfKeys: 3 },
} as const;

/** Names of the registered script commands. */
export type ScriptName = keyof typeof SCRIPTS;

type Arg = string | number;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    eoAcceptOrder(numKeys: number, ...keysAndArgs: Arg[]): Result<string[], Context>;
    eoClaimOrder(...keysAndArgs: Arg[]): Result<Array<string | number>, Context>;
    eoExtendLock(...keysAndArgs: Arg[]): Result<number, Context>;
    eoReleaseLock(...keysAndArgs: Arg[]): Result<number, Context>;
    eoCommitOrder(numKeys: number, ...keysAndArgs: Arg[]): Result<Array<string | number>, Context>;
    eoFailAttempt(...keysAndArgs: Arg[]): Result<Array<string | number>, Context>;
    eoDueOrders(...keysAndArgs: Arg[]): Result<Array<string | number>, Context>;
    eoSetStock(...keysAndArgs: Arg[]): Result<[number, number], Context>;
    eoRetryOrder(...keysAndArgs: Arg[]): Result<string[], Context>;
  }
}

// Scripts live beside src/ and dist/ (../../lua from either), so the build needs no copy step.
const LUA_DIR = join(__dirname, '..', '..', 'lua');

/** Reads one script's source from the package's `lua/` folder. */
export function scriptSource(name: ScriptName): string {
  return readFileSync(join(LUA_DIR, SCRIPTS[name].file), 'utf8');
}

/**
 * Defines every script as an ioredis command on `redis` (EVALSHA, falling back to EVAL on NOSCRIPT,
 * so a Redis restart or failover needs no reload). Idempotent per client.
 */
export function registerScripts(redis: Redis): Redis {
  for (const name of Object.keys(SCRIPTS) as ScriptName[]) {
    if (typeof (redis as unknown as Record<string, unknown>)[name] === 'function') continue;
    const { numberOfKeys } = SCRIPTS[name];
    redis.defineCommand(name, numberOfKeys === undefined ? { lua: scriptSource(name) } : { lua: scriptSource(name), numberOfKeys });
  }
  return redis;
}
