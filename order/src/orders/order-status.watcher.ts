import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { LogEvent, RedisKeys } from '@eo/contract';
import { LOGGER, SUBSCRIBER, type Logger } from '@eo/platform';

/** Why a wait ended: the order may have changed (read it again), time ran out, or the app is closing. */
export type WakeReason = 'changed' | 'timeout' | 'closing';

/** One registered wait for an order's status; always `cancel()` it, whatever happened. */
export interface StatusWatch {
  /** Settles at the first of: a status event for the order, the timeout, shutdown. Never rejects. */
  readonly woken: Promise<WakeReason>;
  /** Forgets the wait and its timer (idempotent). */
  cancel(): void;
}

interface Waiter {
  settle(reason: WakeReason): void;
}

/**
 * Wakes `GET /orders/:id?waitMs` requests when their order turns terminal. The commit, fail and
 * claim scripts PUBLISH the orderId on `order_status`; this provider holds the one subscription and
 * a map orderId → waiters, so a thousand waiting requests cost one Redis subscription and no polling.
 *
 * Callers must register ({@link watch}) before reading the order: a status published between the
 * read and the registration would otherwise be missed until the timeout.
 */
@Injectable()
export class OrderStatusWatcher implements OnModuleInit, OnModuleDestroy {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private subscribed = false;
  private closing = false;

  constructor(
    @Inject(SUBSCRIBER) private readonly subscriber: Redis,
    private readonly keys: RedisKeys,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    const channel = this.keys.orderStatusChannel;
    this.subscriber.on('message', (ch: string, orderId: string) => {
      if (ch === channel) this.wake(orderId);
    });
    // Events published while the subscriber was reconnecting are lost: let every waiter re-read.
    this.subscriber.on('ready', () => this.wakeAll('changed'));
    // Not awaited: with Redis away at start the service must still come up (live, not ready);
    // ioredis queues the SUBSCRIBE and re-subscribes after every reconnect.
    this.subscriber.subscribe(channel).then(
      () => {
        this.subscribed = true;
      },
      (err: unknown) => {
        this.logger.error({ event: LogEvent.RedisState, connection: 'subscriber', err }, `could not subscribe to ${channel}`);
      },
    );
  }

  onModuleDestroy(): void {
    // Release held requests now so the HTTP server can close instead of waiting out their timeouts.
    this.closing = true;
    this.wakeAll('closing');
  }

  /** Why the service cannot serve `waitMs` correctly yet, for the readiness check; undefined when it can. */
  problem(): string | undefined {
    return this.subscribed ? undefined : `not subscribed to ${this.keys.orderStatusChannel} yet`;
  }

  /** Number of waits registered now. */
  get waiting(): number {
    let n = 0;
    for (const set of this.waiters.values()) n += set.size;
    return n;
  }

  /** Registers a wait for `orderId` lasting at most `timeoutMs`. */
  watch(orderId: string, timeoutMs: number): StatusWatch {
    if (this.closing) return { woken: Promise.resolve('closing'), cancel: () => undefined };
    let waiter!: Waiter;
    const woken = new Promise<WakeReason>((resolve) => {
      waiter = {
        settle: (reason) => {
          clearTimeout(timer);
          this.forget(orderId, waiter);
          resolve(reason);
        },
      };
    });
    const timer = setTimeout(() => waiter.settle('timeout'), Math.max(0, timeoutMs));
    let set = this.waiters.get(orderId);
    if (!set) this.waiters.set(orderId, (set = new Set()));
    set.add(waiter);
    return {
      woken,
      cancel: () => {
        clearTimeout(timer);
        this.forget(orderId, waiter);
      },
    };
  }

  private wake(orderId: string): void {
    const set = this.waiters.get(orderId);
    if (!set) return;
    this.waiters.delete(orderId);
    for (const waiter of set) waiter.settle('changed');
  }

  private wakeAll(reason: WakeReason): void {
    const all = [...this.waiters.values()];
    this.waiters.clear();
    for (const set of all) for (const waiter of set) waiter.settle(reason);
  }

  private forget(orderId: string, waiter: Waiter): void {
    const set = this.waiters.get(orderId);
    if (set?.delete(waiter) && set.size === 0) this.waiters.delete(orderId);
  }
}
