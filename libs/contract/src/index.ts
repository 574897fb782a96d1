// The contract between the order service, the inventory and the tools. Named exports only.
export {
  buildEnvelope,
  decodeOrderMessage,
  isValidOrderId,
  OrderLimits,
  parseEnvelope,
  parseStoredItems,
  validateItems,
  type FieldError,
  type OrderItem,
  MessageType,
  type MessageTypeName,
  type OrderEnvelope,
  type OrderView,
  type Validated,
} from './envelope';
export {
  apiStatus,
  CANCELLING,
  isTerminal,
  LogEvent,
  Metric,
  ORDER_VOCABULARY,
  OrderStatus,
  type LogEventName,
  type MetricName,
  type OrderStatusName,
  type StoredStatus,
} from './events';
export { RedisKeys } from './keys';
export { OrderStore, type OrderSummary, type StockLevel, type StoredOrder } from './order-store';
