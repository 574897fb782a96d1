/** Log `event` values; docs/design.md "Logs" is the contract dashboards and the audit tool rely on. */
export const LogEvent = {
  OrderAccepted: 'order.accepted',
  OrderProcessed: 'order.processed',
  OrderClaimed: 'order.claimed',
  OrderSkipped: 'order.skipped',
  OrderLeaseLost: 'order.lease_lost',
  OrderFailed: 'order.failed',
  OrderRetryScheduled: 'order.retry_scheduled',
  OrderReleased: 'order.released',
  OrderRecovered: 'order.recovered',
  OrderError: 'order.error',
  OrderUnacknowledged: 'order.unacknowledged',
  OrderRetried: 'order.retried',
  MessageInvalid: 'message.invalid',
  SweepFailed: 'sweep.failed',
  LeaseRenewFailed: 'lease.renew_failed',
  ServiceStarted: 'service.started',
  ServiceStopping: 'service.stopping',
  RedisState: 'redis.state',
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
