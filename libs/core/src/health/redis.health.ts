import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { Redis } from 'ioredis';

/** Readiness of one Redis connection: connected and answering PING within a second. */
@Injectable()
export class RedisHealthIndicator {
  constructor(private readonly health: HealthIndicatorService) {}

  /** Reports `key` up when `redis` is ready and answers PING, down otherwise. */
  async check(key: string, redis: Redis, extra?: () => string | undefined): Promise<HealthIndicatorResult> {
    const indicator = this.health.check(key);
    if (redis.status !== 'ready') return indicator.down({ message: `redis connection is ${redis.status}` });
    const problem = extra?.();
    if (problem) return indicator.down({ message: problem });
    try {
      await Promise.race([
        redis.ping(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('PING timed out after 1000 ms')), 1000).unref()),
      ]);
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: error instanceof Error ? error.message : String(error) });
    }
  }
}
