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

/** Order statuses: `PENDING` until exactly one terminal status is set; a terminal status never changes. */
export const OrderStatus = {
  Pending: 'PENDING',
  Reserved: 'RESERVED',
  Rejected: 'REJECTED',
  Failed: 'FAILED',
} as const;

/** One of the {@link OrderStatus} values. */
export type OrderStatusName = (typeof OrderStatus)[keyof typeof OrderStatus];

/** True for RESERVED, REJECTED and FAILED. */
export function isTerminal(status: string | undefined): boolean {
  return status === OrderStatus.Reserved || status === OrderStatus.Rejected || status === OrderStatus.Failed;
}

const metric = engineMetricNames(ORDER_VOCABULARY);

/** Metric names (DogStatsD); dashboards and monitors in `datadog/` rely on them. */
export const Metric = {
  Accepted: 'orders.accepted',
  Processed: metric.processed,
  Skipped: metric.skipped,
  LeaseLost: metric.leaseLost,
  Recovered: metric.recovered,
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
