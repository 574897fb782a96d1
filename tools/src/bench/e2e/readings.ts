import type { Redis } from 'ioredis';
import { OrderStore, type RedisKeys } from '@eo/contract';
import { delay } from '@eo/local';
import { cpuSeconds } from '../proc';
import { interrupted } from './lifecycle';

// /proc readings

export interface Proc {
  name: string;
  pid: number | 'self';
}

export function cpuSnapshot(procs: Proc[]): Record<string, number> {
  return Object.fromEntries(procs.map((p) => [p.name, cpuSeconds(p.pid)]));
}

// Redis readings

export type CommandStats = Record<string, { calls: number; failed: number }>;

export async function commandStats(redis: Redis): Promise<CommandStats> {
  const info = await redis.info('commandstats');
  const stats: CommandStats = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),.*?failed_calls=(\d+)/gm)) {
    stats[match[1]] = { calls: Number(match[2]), failed: Number(match[3]) };
  }
  return stats;
}

/** `after - before`, without the bench's own commands (`own`: calls this process made in between). */
export function statsDelta(before: CommandStats, after: CommandStats, own: Record<string, number>): CommandStats {
  const delta: CommandStats = {};
  for (const [name, { calls, failed }] of Object.entries(after)) {
    const n = calls - (before[name]?.calls ?? 0) - (own[name] ?? 0);
    if (n > 0) delta[name] = { calls: n, failed: failed - (before[name]?.failed ?? 0) };
  }
  return delta;
}

/** Polls ZCARD orders:pending until it is 0 (every accepted order is on it until it is terminal). */
export async function waitForEmptyBacklog(redis: Redis, keys: RedisKeys, timeoutMs: number, own: Record<string, number>): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    own.zcard = (own.zcard ?? 0) + 1;
    if ((await redis.zcard(keys.pending)) === 0) return true;
    if (Date.now() > deadline || interrupted) return false;
    await delay(25);
  }
}

export interface OrderTimes {
  /** accept→terminal in ms, per terminal order. */
  latencies: number[];
  completed: number;
  notTerminal: number;
  firstCreated: number;
  lastProcessed: number;
  statuses: Record<string, number>;
}

/** Status, createdAt and processedAt of every order, through the contract's OrderStore. */
export async function readOrderTimes(redis: Redis, keys: RedisKeys, ids: readonly string[]): Promise<OrderTimes> {
  const out: OrderTimes = { latencies: [], completed: 0, notTerminal: 0, firstCreated: Infinity, lastProcessed: -Infinity, statuses: {} };
  for (const view of await new OrderStore(redis, keys).views(ids)) {
    const status = view?.status ?? null;
    const createdAt = view?.createdAt || null;
    const processedAt = view?.processedAt ?? null;
    out.statuses[status ?? 'missing'] = (out.statuses[status ?? 'missing'] ?? 0) + 1;
    const created = createdAt ? Date.parse(createdAt) : NaN;
    const processed = processedAt ? Date.parse(processedAt) : NaN;
    if (status === null || status === 'PENDING' || Number.isNaN(created) || Number.isNaN(processed)) {
      out.notTerminal++;
      continue;
    }
    out.completed++;
    out.latencies.push(processed - created);
    if (created < out.firstCreated) out.firstCreated = created;
    if (processed > out.lastProcessed) out.lastProcessed = processed;
  }
  return out;
}
