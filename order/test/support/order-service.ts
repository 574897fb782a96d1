import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Redis } from 'ioredis';
import { RedisKeys, type OrderItem } from '@eo/contract';
import { createLogger, type Env } from '@eo/platform';
import { RedisServer } from '@eo/local';
import { OrderLifecycleScripts, ReplyCutter } from '@eo/test-support';
import { createOrderApp } from '../../src/app';
import { loadOrderConfig, type OrderConfig } from '../../src/config';

/** One JSON log line the service wrote. */
export interface LogLine {
  level: string;
  msg: string;
  event?: string;
  [field: string]: unknown;
}

/** An HTTP answer with its parsed JSON body. */
export interface ApiResponse {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

/** A `{sku, quantity}` line; defaults keep tests short. */
export function item(sku = 'A-1', quantity = 2): OrderItem {
  return { sku, quantity };
}

/**
 * The order service running in-process on a free port against its own private redis-server, plus
 * a separate Redis client, the keys and the scripts, so tests can see and drive what replicas would.
 */
export class OrderService {
  private constructor(
    readonly server: RedisServer,
    readonly app: NestFastifyApplication,
    readonly config: OrderConfig,
    readonly baseUrl: string,
    /** A test-side client (not the app's); reconnects by itself after a Redis restart. */
    readonly redis: Redis,
    readonly keys: RedisKeys,
    readonly scripts: OrderLifecycleScripts,
    readonly logs: LogLine[],
    /** With `cutReplies`: the proxy the app reaches Redis through, to lose a reply on purpose. */
    readonly cutter: ReplyCutter | undefined,
  ) {}

  /**
   * Starts Redis and the app; `env` overrides the test defaults; resolves once `/health/ready`
   * answers `readyStatus`. With `cutReplies`, the app talks to Redis through a {@link ReplyCutter}.
   */
  static async start(env: Env = {}, readyStatus = 200, options: { cutReplies?: boolean } = {}): Promise<OrderService> {
    const server = await RedisServer.start();
    const cutter = options.cutReplies ? await ReplyCutter.start({ host: '127.0.0.1', port: server.port }) : undefined;
    const config = loadOrderConfig({
      REDIS_URL: cutter?.url ?? server.url,
      PORT: '0',
      REPLICA_NAME: 'order-test',
      RECOVERY_GRACE_MS: '60000',
      ...env,
    });
    const logs: LogLine[] = [];
    const logger = createLogger(config, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
    const app = await createOrderApp(config, logger);
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    const redis = server.client();
    const keys = new RedisKeys(config.redisNamespace);
    const service = new OrderService(
      server,
      app,
      config,
      `http://127.0.0.1:${port}`,
      redis,
      keys,
      new OrderLifecycleScripts(redis, keys),
      logs,
      cutter,
    );
    await service.waitUntilReady(readyStatus);
    return service;
  }

  /** Stops the app, the test client and Redis. */
  async close(): Promise<void> {
    await this.app.close();
    this.redis.disconnect();
    await this.cutter?.stop();
    await this.server.stop();
  }

  /** Any request; the body is parsed as JSON when there is one. */
  async request(path: string, init: RequestInit = {}): Promise<ApiResponse> {
    const response = await fetch(`${this.baseUrl}${path}`, init);
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: response.headers };
  }

  /** `POST /orders` with `body` as JSON. */
  postOrder(body: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
    return this.request('/orders', {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...headers },
    });
  }

  /** `POST /orders` with a raw payload, for malformed bodies and content types. */
  postRaw(payload: string, contentType: string): Promise<ApiResponse> {
    return this.request('/orders', { method: 'POST', body: payload, headers: { 'content-type': contentType } });
  }

  /** `GET /orders/:id`, optionally with `?waitMs`. */
  getOrder(orderId: string, query: { waitMs?: string | number } = {}): Promise<ApiResponse> {
    const search = query.waitMs === undefined ? '' : `?waitMs=${encodeURIComponent(String(query.waitMs))}`;
    return this.request(`/orders/${encodeURIComponent(orderId)}${search}`);
  }

  /** `POST /orders/:id/cancel`, with no body unless one is given. */
  cancelOrder(
    orderId: string,
    options: { body?: string; contentType?: string; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse> {
    const headers = { ...(options.contentType ? { 'content-type': options.contentType } : {}), ...options.headers };
    return this.request(`/orders/${encodeURIComponent(orderId)}/cancel`, { method: 'POST', body: options.body, headers });
  }

  /** Places an order that must be accepted (202) and returns its id. */
  async placeOrder(items: OrderItem[] = [item()], extra: { orderId?: string } = {}): Promise<string> {
    const response = await this.postOrder({ items, ...extra });
    if (response.status !== 202) throw new Error(`expected 202, got ${response.status} ${JSON.stringify(response.body)}`);
    return response.body.orderId as string;
  }

  /** Does what one inventory replica would: claim, then commit (reserve or reject by stock). */
  async process(orderId: string, replica = 'inventory-test'): Promise<string> {
    const attempt = { orderId, token: `token-${orderId}-${Date.now()}`, replica };
    const now = new Date().toISOString();
    const claim = await this.scripts.claim(attempt, 10_000, 3, now);
    if (claim.code !== 'claimed') throw new Error(`claim ${claim.code}`);
    return (await this.scripts.commit(attempt, claim.items, now)).code;
  }

  /** Does what the replica that wins a cancelled order's lock would: claim its release, then give the stock back. */
  async release(orderId: string, replica = 'inventory-test'): Promise<string> {
    const attempt = { orderId, token: `token-${orderId}-release-${Date.now()}`, replica };
    const now = new Date().toISOString();
    const claim = await this.scripts.claim(attempt, 10_000, 3, now, 'CANCELLING');
    if (claim.code !== 'claimed') throw new Error(`claim ${claim.code}`);
    return (await this.scripts.releaseStock(attempt, claim.items, now)).code;
  }

  /** Does what a replica whose work keeps failing would: claim, then record the failure (FAILED after one attempt). */
  async fail(orderId: string, reason = 'downstream said no'): Promise<string> {
    const attempt = { orderId, token: `token-${orderId}-${Date.now()}`, replica: 'inventory-test' };
    const now = new Date().toISOString();
    const claim = await this.scripts.claim(attempt, 10_000, 1, now);
    if (claim.code !== 'claimed') throw new Error(`claim ${claim.code}`);
    return (await this.scripts.fail(attempt, 1, 10, now, reason)).code;
  }

  /** Number of `order:*` hashes in Redis. */
  async orderCount(): Promise<number> {
    return (await this.redis.keys(this.keys.order('*'))).length;
  }

  /** Log lines carrying `event`. */
  events(event: string): LogLine[] {
    return this.logs.filter((line) => line.event === event);
  }

  /** Polls `/health/ready` until it answers `status`. */
  async waitUntilReady(status = 200, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 0;
    while (Date.now() < deadline) {
      last = (await this.request('/health/ready')).status;
      if (last === status) return;
      await sleep(50);
    }
    throw new Error(`/health/ready stayed ${last}, expected ${status}`);
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
