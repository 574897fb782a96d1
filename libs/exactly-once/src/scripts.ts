import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Redis, Result } from 'ioredis';

/** One Lua script: its file and, when the key count is fixed, how many of its arguments are KEYS. */
export interface ScriptDefinition {
  /** Absolute path of the `.lua` file. */
  file: string;
  /** Omitted when the key count varies; the caller then passes it first. */
  numberOfKeys?: number;
}

/** Scripts by the ioredis command name they are defined as. */
export type ScriptSet = Record<string, ScriptDefinition>;

/** The engine's `lua/` folder; beside `src/` and `dist/` alike, so the build needs no copy step. */
export const ENGINE_LUA_DIR = join(__dirname, '..', 'lua');

const INCLUDE = /^--- @include "([a-z0-9-]+)"\s*$/gm;

/**
 * A script's source with its `--- @include "name"` lines replaced by `includes/<name>.lua`, looked up
 * beside the script first and then in the engine's includes (so a service's commit script pulls in
 * the engine's `fence` and `finish`). Each fragment is included once, however often it is named.
 */
export function scriptSource(file: string): string {
  const dirs = [join(dirname(file), 'includes'), join(ENGINE_LUA_DIR, 'includes')];
  const seen = new Set<string>();
  const expand = (source: string, from: string): string =>
    source.replace(INCLUDE, (_line, name: string) => {
      if (seen.has(name)) return `-- (${name} included above)`;
      seen.add(name);
      for (const dir of dirs) {
        let fragment: string;
        try {
          fragment = readFileSync(join(dir, `${name}.lua`), 'utf8');
        } catch {
          continue;
        }
        return expand(fragment, name);
      }
      throw new Error(`${basename(from)}: no include named "${name}" in ${dirs.join(' or ')}`);
    });
  return expand(readFileSync(file, 'utf8'), file);
}

/**
 * Defines every script of `set` as an ioredis command on `redis` (EVALSHA, falling back to EVAL on
 * NOSCRIPT, so a Redis restart or failover needs no reload). Idempotent per client.
 */
export function defineScripts(redis: Redis, set: ScriptSet): Redis {
  for (const [name, { file, numberOfKeys }] of Object.entries(set)) {
    if (typeof (redis as unknown as Record<string, unknown>)[name] === 'function') continue;
    const lua = scriptSource(file);
    redis.defineCommand(name, numberOfKeys === undefined ? { lua } : { lua, numberOfKeys });
  }
  return redis;
}

/** The engine's own scripts: claim, lease renewal, release, failure, the backlog's due ids and the workers' heartbeat. */
export const ENGINE_SCRIPTS = {
  eoClaim: { file: join(ENGINE_LUA_DIR, 'claim.lua'), numberOfKeys: 4 },
  eoExtendLock: { file: join(ENGINE_LUA_DIR, 'extend-lock.lua'), numberOfKeys: 2 },
  eoReleaseLock: { file: join(ENGINE_LUA_DIR, 'release-lock.lua'), numberOfKeys: 2 },
  eoFailAttempt: { file: join(ENGINE_LUA_DIR, 'fail-attempt.lua'), numberOfKeys: 4 },
  eoDue: { file: join(ENGINE_LUA_DIR, 'due.lua'), numberOfKeys: 2 },
  eoHeartbeat: { file: join(ENGINE_LUA_DIR, 'heartbeat.lua'), numberOfKeys: 1 },
} satisfies ScriptSet;

type Arg = string | number;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    eoClaim(...keysAndArgs: Arg[]): Result<Array<string | number | null>, Context>;
    eoExtendLock(...keysAndArgs: Arg[]): Result<number, Context>;
    eoReleaseLock(...keysAndArgs: Arg[]): Result<number, Context>;
    eoFailAttempt(...keysAndArgs: Arg[]): Result<Array<string | number>, Context>;
    eoDue(...keysAndArgs: Arg[]): Result<Array<string | number>, Context>;
    eoHeartbeat(...keysAndArgs: Arg[]): Result<string[], Context>;
  }
}
