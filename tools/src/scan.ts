import type { Redis } from 'ioredis';

/**
 * SCANs the keys matching `pattern`, handing each batch to `each`, until done or `limit` keys were
 * seen; says how many it saw and whether it got to the end.
 */
export async function scanKeys(
  redis: Redis,
  pattern: string,
  limit: number,
  each: (keys: string[]) => Promise<void> | void,
): Promise<{ seen: number; complete: boolean }> {
  let cursor = '0';
  let seen = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    seen += keys.length;
    if (keys.length > 0) await each(keys);
  } while (cursor !== '0' && seen < limit);
  return { seen, complete: cursor === '0' };
}
