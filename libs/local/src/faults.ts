import { randomUUID } from 'node:crypto';
import type { OrderItem } from '@eo/contract';
import { buildEnvelope, MessageType, type MessageTypeName } from '@eo/contract';
import { delay } from './http';
import type { SystemHarness } from './system';
import type { ServiceProcess } from './service-process';

/** Kinds of fault the suite and the soak inject (docs/design.md "Faults and what they must not break"). */
export type FaultKind =
  'kill-replica' | 'pause-replica' | 'pubsub-disconnect' | 'redis-restart' | 'duplicate-delivery' | 'garbage-messages' | 'sigterm-replica';

/** Malformed and wrong-shaped messages a consumer must log as `message.invalid` and drop. */
export const GARBAGE_MESSAGES: readonly string[] = [
  'not json at all',
  '{"v":1,"type":"OrderPlaced"',
  '[]',
  'null',
  '{"v":2,"type":"OrderPlaced","orderId":"x","items":[{"sku":"A","quantity":1}],"createdAt":"2026-01-01T00:00:00Z"}',
  '{"v":1,"type":"OrderShipped","orderId":"x","items":[{"sku":"A","quantity":1}],"createdAt":"2026-01-01T00:00:00Z"}',
  '{"v":1,"type":"OrderPlaced","orderId":"has space","items":[{"sku":"A","quantity":1}],"createdAt":"2026-01-01T00:00:00Z"}',
  '{"v":1,"type":"OrderPlaced","orderId":"x","items":[],"createdAt":"2026-01-01T00:00:00Z"}',
  '{"v":1,"type":"OrderPlaced","orderId":"x","items":[{"sku":"A","quantity":-3}],"createdAt":"2026-01-01T00:00:00Z"}',
  '{"v":1,"type":"OrderPlaced","orderId":"x","items":[{"sku":"A","quantity":1}],"createdAt":"not a date"}',
  JSON.stringify({
    v: 1,
    type: 'OrderPlaced',
    orderId: 'x'.repeat(65),
    items: [{ sku: 'A', quantity: 1 }],
    createdAt: '2026-01-01T00:00:00Z',
  }),
];

/**
 * Drives the faults against a running {@link SystemHarness} with real signals and real Redis
 * commands: SIGKILL, SIGSTOP/SIGCONT, SIGTERM, `CLIENT KILL TYPE pubsub`, a Redis crash-restart on
 * the same port and AOF, and raw messages on the channel.
 */
export class FaultInjector {
  constructor(private readonly system: SystemHarness) {}

  /** `kill -9` a replica; resolves once it is gone. */
  async killReplica(replica: ServiceProcess): Promise<void> {
    await replica.kill('SIGKILL');
  }

  /** SIGSTOP a replica for `ms`, then SIGCONT. */
  async pauseReplica(replica: ServiceProcess, ms: number): Promise<void> {
    replica.pause();
    try {
      await delay(ms);
    } finally {
      replica.resume();
    }
  }

  /** SIGTERM a replica; resolves with its exit code and how long the drain took. */
  async terminateReplica(replica: ServiceProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
    const started = Date.now();
    const result = await replica.kill('SIGTERM');
    return { code: result.code, signal: result.signal, ms: Date.now() - started };
  }

  /** `CLIENT KILL TYPE pubsub`: cuts every subscriber connection; returns how many were cut. */
  async killPubsubClients(): Promise<number> {
    return Number(await this.system.redis.call('CLIENT', 'KILL', 'TYPE', 'pubsub'));
  }

  /** Crashes Redis (SIGKILL by default) and starts it again on the same port and data directory. */
  async restartRedis(downtimeMs: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const server = this.system.redisServer;
    if (!server) throw new Error('restartRedis needs a private RedisServer');
    await server.restart(downtimeMs, signal);
  }

  /** Publishes an order's envelope (an OrderPlaced unless `type` says) `times` times (duplicate delivery); returns how many replicas heard each. */
  async publishDuplicates(
    orderId: string,
    items: OrderItem[],
    times: number,
    type: MessageTypeName = MessageType.OrderPlaced,
  ): Promise<number[]> {
    const envelope = JSON.stringify(buildEnvelope(orderId, items, new Date().toISOString(), undefined, type));
    const heard: number[] = [];
    for (let i = 0; i < times; i++) heard.push(await this.system.redis.publish(this.system.keys.orderUpdatesChannel, envelope));
    return heard;
  }

  /** Publishes every {@link GARBAGE_MESSAGES} entry once. */
  async publishGarbage(): Promise<number> {
    for (const message of GARBAGE_MESSAGES) await this.system.redis.publish(this.system.keys.orderUpdatesChannel, message);
    return GARBAGE_MESSAGES.length;
  }
}

/** Result of an {@link OrderFlow}: what was accepted (202) and every other answer by status. */
export interface FlowResult {
  accepted: string[];
  /** Items of each accepted order, by id (for checks that need quantities). */
  itemsById: Map<string, OrderItem[]>;
  refusedByStatus: Record<number, number>;
  /** Requests that failed at the network level (service down), never counted as accepted. */
  networkErrors: number;
  /** Every answer with when its request was sent and answered (epoch ms; status 0 for a network error). */
  answers: FlowAnswer[];
  /** The answers to the flow's `POST /orders/:id/cancel` requests (status 0 for a network error). */
  cancels: FlowAnswer[];
}

/** Which orders a flow cancels, and when. */
export interface FlowCancellations {
  /** Share of the orders to cancel (0.3: three in ten, spread evenly over the flow). */
  share: number;
  /** Each is cancelled a random 0..maxDelayMs after its 202: some while PENDING, some once RESERVED. */
  maxDelayMs: number;
}

/** How an {@link OrderFlow} places (and cancels) orders. */
export interface FlowOptions {
  count: number;
  ratePerSecond: number;
  concurrency?: number;
  maxMs?: number;
  cancel?: FlowCancellations;
}

/** One request of an {@link OrderFlow}. */
export interface FlowAnswer {
  sentAt: number;
  answeredAt: number;
  status: number;
  orderId?: string;
}

/**
 * The longest stretch after `faultAt` in which no request sent after the fault got a 2xx: from the
 * fault to the first such 2xx, or between two of them (an earlier request's 2xx says nothing about
 * the system after the fault). Undefined when no request sent after the fault got one.
 */
export function availabilityGap(result: FlowResult, faultAt: number): number | undefined {
  const times = result.answers
    .filter((a) => a.sentAt >= faultAt && a.status >= 200 && a.status < 300)
    .map((a) => a.answeredAt)
    .sort((a, b) => a - b);
  if (times.length === 0) return undefined;
  return Math.max(...times.map((at, i) => at - (i === 0 ? faultAt : times[i - 1])));
}

/**
 * Places orders in the background at a bounded rate, for a bounded count and time, while a test
 * injects faults; `stop()` ends it early and `done` resolves with what happened. With `cancel`, it
 * chooses the order ids itself and cancels a share of the accepted orders at random moments, so a
 * test knows up front which orders may end CANCELLED ({@link willCancel}).
 */
export class OrderFlow {
  private stopped = false;
  private readonly idPrefix = `flow-${randomUUID().slice(0, 8)}`;
  private readonly toCancel = new Set<string>();
  readonly done: Promise<FlowResult>;

  constructor(system: SystemHarness, makeItems: (i: number) => OrderItem[], options: FlowOptions) {
    this.done = this.run(system, makeItems, options);
  }

  /** True for an order this flow cancels (or tries to): anything else ends as its placement decides. */
  willCancel(orderId: string): boolean {
    return this.toCancel.has(orderId);
  }

  /** The id of the i-th order when the flow chooses ids (it does when it cancels), else undefined. */
  private orderId(i: number, cancel: FlowCancellations | undefined): string | undefined {
    if (!cancel) return undefined;
    const orderId = `${this.idPrefix}-${i}`;
    // Spread evenly: order i is cancelled when the running count of share × i steps up at it.
    if (Math.floor((i + 1) * cancel.share) > Math.floor(i * cancel.share)) this.toCancel.add(orderId);
    return orderId;
  }

  private async cancelLater(system: SystemHarness, orderId: string, cancel: FlowCancellations, result: FlowResult): Promise<void> {
    await delay(Math.random() * cancel.maxDelayMs);
    const sentAt = Date.now();
    try {
      const reply = await system.cancelOrder(orderId);
      result.cancels.push({ sentAt, answeredAt: Date.now(), status: reply.status, orderId });
    } catch {
      result.cancels.push({ sentAt, answeredAt: Date.now(), status: 0, orderId });
    }
  }

  /** Stops placing new orders; in-flight requests still finish. */
  stop(): void {
    this.stopped = true;
  }

  private async run(system: SystemHarness, makeItems: (i: number) => OrderItem[], options: FlowOptions): Promise<FlowResult> {
    const result: FlowResult = { accepted: [], itemsById: new Map(), refusedByStatus: {}, networkErrors: 0, answers: [], cancels: [] };
    const cancellations: Array<Promise<void>> = [];
    const started = Date.now();
    const deadline = started + (options.maxMs ?? 60_000);
    const inFlight = new Set<Promise<void>>();
    const interval = 1000 / options.ratePerSecond;
    for (let i = 0; i < options.count && !this.stopped && Date.now() < deadline; i++) {
      const items = makeItems(i);
      const sentAt = Date.now();
      const orderId = this.orderId(i, options.cancel);
      const request = system
        .placeOrder(items, { timeoutMs: 10_000, orderId })
        .then((placed) => {
          result.answers.push({ sentAt, answeredAt: Date.now(), status: placed.status, orderId: placed.orderId });
          if (placed.orderId !== undefined) {
            result.accepted.push(placed.orderId);
            result.itemsById.set(placed.orderId, items);
            if (options.cancel && this.willCancel(placed.orderId))
              cancellations.push(this.cancelLater(system, placed.orderId, options.cancel, result));
          } else result.refusedByStatus[placed.status] = (result.refusedByStatus[placed.status] ?? 0) + 1;
        })
        .catch(() => {
          result.answers.push({ sentAt, answeredAt: Date.now(), status: 0 });
          result.networkErrors++;
        })
        .finally(() => inFlight.delete(request));
      inFlight.add(request);
      while (inFlight.size >= (options.concurrency ?? 32)) await Promise.race(inFlight);
      const nextAt = started + (i + 1) * interval;
      if (nextAt > Date.now()) await delay(nextAt - Date.now());
    }
    await Promise.all(inFlight);
    await Promise.all(cancellations);
    return result;
  }
}
