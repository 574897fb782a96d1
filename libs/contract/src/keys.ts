import type { QueueKeys } from '@eo/exactly-once';

/**
 * The one place that builds Redis key and channel names. Every other module asks here, so a
 * `REDIS_NAMESPACE` prefix reaches every key and both channels, and no key literal lives elsewhere.
 */
export class RedisKeys implements QueueKeys {
  /** Prefix applied to every key and channel: `""` or `"<namespace>:"`. */
  readonly prefix: string;

  constructor(namespace?: string) {
    this.prefix = namespace ? `${namespace}:` : '';
  }

  /** Hash holding one order: status, items (JSON), timestamps, attempts, processedBy, the commit tokens. */
  order(orderId: string): string {
    return `${this.prefix}order:${orderId}`;
  }

  /** Sorted set: orderId → epoch ms at which the order is due for recovery by the sweep. */
  get pending(): string {
    return `${this.prefix}orders:pending`;
  }

  /** Sorted set: orders that ended FAILED after exhausting their attempts → epoch ms of failure. */
  get dead(): string {
    return `${this.prefix}orders:dead`;
  }

  /** String: Idempotency-Key → orderId, with a TTL. */
  idempotency(key: string): string {
    return `${this.prefix}idem:${key}`;
  }

  /** String: the processing lock for one order; its value is the claimant's random token. */
  lock(orderId: string): string {
    return `${this.prefix}lock:${orderId}`;
  }

  /** Key prefix of the stock hashes; the commit script checks its KEYS against it. */
  get stockPrefix(): string {
    return `${this.prefix}stock:`;
  }

  /** Hash with `available` and `reserved` for one SKU. */
  stock(sku: string): string {
    return `${this.stockPrefix}${sku}`;
  }

  /** Sorted set of every SKU ever stocked (all scores 0), so the inventory can be listed in pages. */
  get skuIndex(): string {
    return `${this.prefix}stock:index`;
  }

  /** The order hash, as the engine calls its records. */
  record(orderId: string): string {
    return this.order(orderId);
  }

  /** The backlog, as the engine calls it: {@link pending}. */
  get backlog(): string {
    return this.pending;
  }

  /** The channel the engine announces finished records on: {@link orderStatusChannel}. */
  get statusChannel(): string {
    return this.orderStatusChannel;
  }

  /** The channel the engine announces a finished record on to the one worker ready to hedge it. */
  hedgeChannel(worker: string): string {
    return this.replicaStatusChannel(worker);
  }

  /** Sorted set: inventory replica → epoch ms of its last heartbeat (`CLAIM_MODE=affinity`). */
  get workers(): string {
    return `${this.prefix}inventory:replicas`;
  }

  /** Pub/Sub channel carrying the OrderPlaced envelope. */
  get orderUpdatesChannel(): string {
    return `${this.prefix}order_updates`;
  }

  /** Pub/Sub channel on which the commit announces terminal statuses (wakes `GET ?waitMs`). */
  get orderStatusChannel(): string {
    return `${this.prefix}order_status`;
  }

  /**
   * Pub/Sub channel of one inventory replica (`CLAIM_MODE=affinity`): the commit announces an order
   * here too when this replica ranks second for it, the one replica holding a hedge for it.
   */
  replicaStatusChannel(replica: string): string {
    return `${this.orderStatusChannel}:${replica}`;
  }
}
