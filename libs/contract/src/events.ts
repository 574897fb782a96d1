import { engineLogEvents, engineMetricNames, type Vocabulary } from '@eo/exactly-once';

/** The engine's words for an order: its log events are `order.*`, its metrics `orders.*`. */
export const ORDER_VOCABULARY: Vocabulary = { entity: 'order', plural: 'orders', idField: 'orderId' };

const engine = engineLogEvents(ORDER_VOCABULARY);

/** Log `event` values; docs/design.md "Logs" is the contract dashboards and the audit tool rely on. */
export const LogEvent = {
  OrderAccepted: 'order.accepted',
  OrderProcessed: engine.processed,
  OrderClaimed: engine.claimed,
  OrderSkipped: engine.skipped,
  OrderLeaseLost: engine.leaseLost,
  OrderFailed: engine.failed,
  OrderRetryScheduled: engine.retryScheduled,
  OrderReleased: engine.released,
  OrderRecovered: engine.recovered,
  OrderError: engine.error,
  OrderUnacknowledged: engine.unacknowledged,
  OrderRetried: 'order.retried',
  /** One per CANCELLED order: `released` says whether a reservation was given back (and by which replica). */
  OrderCancelled: 'order.cancelled',
  OrderCancelRequested: 'order.cancel_requested',
  MessageInvalid: engine.messageInvalid,
  SweepFailed: engine.sweepFailed,
  LeaseRenewFailed: engine.leaseRenewFailed,
  ServiceStarted: 'service.started',
  ServiceStopping: 'service.stopping',
  RedisState: engine.redisState,
  MetricsFailed: 'metrics.failed',
} as const;

/** One of the {@link LogEvent} values. */
export type LogEventName = (typeof LogEvent)[keyof typeof LogEvent];

/**
 * Order statuses as the API shows them: `PENDING → RESERVED | REJECTED | FAILED | CANCELLED`,
 * `RESERVED → CANCELLED`; CANCELLED, REJECTED and FAILED never change again.
 */
export const OrderStatus = {
  Pending: 'PENDING',
  Reserved: 'RESERVED',
  Rejected: 'REJECTED',
  Failed: 'FAILED',
  Cancelled: 'CANCELLED',
} as const;

/** One of the {@link OrderStatus} values. */
export type OrderStatusName = (typeof OrderStatus)[keyof typeof OrderStatus];

/**
 * The stored status of a RESERVED order whose cancellation is requested: the release is its work
 * to do (the engine claims it in this status). The API shows it as RESERVED with `cancel: "requested"`.
 */
export const CANCELLING = 'CANCELLING';

/** A status as stored in the order hash: an API status, or {@link CANCELLING}. */
export type StoredStatus = OrderStatusName | typeof CANCELLING;

/** The API status of a stored one. */
export function apiStatus(stored: StoredStatus): OrderStatusName {
  return stored === CANCELLING ? OrderStatus.Reserved : stored;
}

/** True once nothing more will happen to the order: REJECTED, FAILED, CANCELLED, and RESERVED unless a cancellation is under way. */
export function isTerminal(status: string | undefined): boolean {
  return (
    status === OrderStatus.Reserved || status === OrderStatus.Rejected || status === OrderStatus.Failed || status === OrderStatus.Cancelled
  );
}

const metric = engineMetricNames(ORDER_VOCABULARY);

/** Metric names (DogStatsD); dashboards and monitors in `datadog/` rely on them. */
export const Metric = {
  Accepted: 'orders.accepted',
  /** Cancellations, tagged `released:true|false`. */
  Cancelled: 'orders.cancelled',
  Processed: metric.processed,
  Skipped: metric.skipped,
  LeaseLost: metric.leaseLost,
  Recovered: metric.recovered,
  /** CLAIM_MODE=affinity: claims made because the order's owner did not finish it within the hedge delay. */
  Hedged: metric.hedged,
  Failed: metric.failed,
  RetryScheduled: metric.retryScheduled,
  Unacknowledged: metric.unacknowledged,
  MessagesInvalid: metric.messagesInvalid,
  LockWait: metric.lockWait,
  ProcessingDuration: metric.processingDuration,
  EndToEnd: metric.endToEnd,
  BacklogSize: metric.backlogSize,
  BacklogOverdue: metric.backlogOverdue,
} as const;

/** One of the {@link Metric} names. */
export type MetricName = (typeof Metric)[keyof typeof Metric];
