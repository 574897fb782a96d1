import type { Decoded } from '@eo/exactly-once';
import type { OrderStatusName } from './events';

/** Limits on an order's shape, shared by the HTTP validation and the envelope check. */
export const OrderLimits = {
  maxItems: 100,
  maxQuantity: 1_000_000,
  skuPattern: /^[A-Za-z0-9._:-]{1,64}$/,
  orderIdPattern: /^[A-Za-z0-9_-]{1,64}$/,
} as const;

/** One line of an order. */
export interface OrderItem {
  sku: string;
  quantity: number;
}

/**
 * An order as `GET /orders/:id` shows it (and an idempotent replay of `POST /orders` returns it):
 * the HTTP contract, shared by the order service and the tools that read it.
 */
export interface OrderView {
  orderId: string;
  status: OrderStatusName;
  items: OrderItem[];
  createdAt: string;
  updatedAt: string;
  processedAt?: string;
  processedBy?: string;
  attempts: number;
  reason?: string;
  /** Set while a cancellation of a RESERVED order is under way: its reservation is being given back. */
  cancel?: 'requested';
}

/** The message types on `order_updates`: an order accepted, and the cancellation of a RESERVED one requested. */
export const MessageType = { OrderPlaced: 'OrderPlaced', OrderCancelled: 'OrderCancelled' } as const;

/** One of the {@link MessageType} values. */
export type MessageTypeName = (typeof MessageType)[keyof typeof MessageType];

/** A message on `order_updates`: it names the order; what to do is read from the order hash. */
export interface OrderEnvelope {
  v: 1;
  type: MessageTypeName;
  orderId: string;
  items: OrderItem[];
  createdAt: string;
  /** Datadog / W3C propagation headers of the accepting request, if tracing is on. */
  trace?: Record<string, string>;
}

/** A validation problem, naming the offending field with a JSON-path-like string (`items[2].sku`). */
export interface FieldError {
  field: string;
  message: string;
}

/** Result of a validation: the typed value, or the first problem found. */
export type Validated<T> = { ok: true; value: T } | { ok: false; error: FieldError };

function fail<T>(field: string, message: string): Validated<T> {
  return { ok: false, error: { field, message } };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates an `items` array: 1–100 entries of `{sku, quantity}` within {@link OrderLimits}. */
export function validateItems(value: unknown, field = 'items'): Validated<OrderItem[]> {
  if (!Array.isArray(value)) return fail(field, 'must be an array');
  if (value.length < 1 || value.length > OrderLimits.maxItems) {
    return fail(field, `must hold 1 to ${OrderLimits.maxItems} items`);
  }
  const items: OrderItem[] = [];
  for (let i = 0; i < value.length; i++) {
    const entry: unknown = value[i];
    const at = `${field}[${i}]`;
    if (!isPlainObject(entry)) return fail(at, 'must be an object with sku and quantity');
    const { sku, quantity } = entry;
    if (typeof sku !== 'string' || !OrderLimits.skuPattern.test(sku)) {
      return fail(`${at}.sku`, 'must be 1 to 64 characters of A-Z a-z 0-9 . _ : -');
    }
    if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1 || quantity > OrderLimits.maxQuantity) {
      return fail(`${at}.quantity`, `must be an integer from 1 to ${OrderLimits.maxQuantity}`);
    }
    for (const key of Object.keys(entry)) {
      if (key !== 'sku' && key !== 'quantity') return fail(`${at}.${key}`, 'is not a known field');
    }
    items.push({ sku, quantity });
  }
  return { ok: true, value: items };
}

/** True when `value` is a syntactically valid order id. */
export function isValidOrderId(value: unknown): value is string {
  return typeof value === 'string' && OrderLimits.orderIdPattern.test(value);
}

/** Builds the envelope for an accepted order (or, with `type`, a requested cancellation). */
export function buildEnvelope(
  orderId: string,
  items: OrderItem[],
  createdAt: string,
  trace?: Record<string, string>,
  type: MessageTypeName = MessageType.OrderPlaced,
): OrderEnvelope {
  const envelope: OrderEnvelope = { v: 1, type, orderId, items, createdAt };
  if (trace && Object.keys(trace).length > 0) envelope.trace = trace;
  return envelope;
}

/**
 * Parses and validates a raw `order_updates` message. Consumers drop what fails (and log
 * `message.invalid`); nothing in a message is trusted beyond choosing which order to look at.
 */
export function parseEnvelope(raw: string): Validated<OrderEnvelope> {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return fail('$', 'is not valid JSON');
  }
  if (!isPlainObject(data)) return fail('$', 'must be a JSON object');
  if (data.v !== 1) return fail('v', 'must be 1');
  if (data.type !== MessageType.OrderPlaced && data.type !== MessageType.OrderCancelled) {
    return fail('type', 'must be "OrderPlaced" or "OrderCancelled"');
  }
  const type = data.type;
  if (!isValidOrderId(data.orderId)) return fail('orderId', 'must be 1 to 64 characters of A-Z a-z 0-9 _ -');
  const items = validateItems(data.items);
  if (!items.ok) return items;
  if (typeof data.createdAt !== 'string' || Number.isNaN(Date.parse(data.createdAt))) {
    return fail('createdAt', 'must be an ISO-8601 timestamp');
  }
  let trace: Record<string, string> | undefined;
  if (data.trace !== undefined) {
    if (!isPlainObject(data.trace) || !Object.values(data.trace).every((v) => typeof v === 'string')) {
      return fail('trace', 'must be an object of string headers');
    }
    trace = data.trace as Record<string, string>;
  }
  return { ok: true, value: buildEnvelope(data.orderId, items.value, data.createdAt, trace, type) };
}

/** The engine's view of an `order_updates` message: {@link parseEnvelope}, keyed by order id. */
export function decodeOrderMessage(raw: string): Decoded {
  const parsed = parseEnvelope(raw);
  if (!parsed.ok) return parsed;
  const { type, orderId, trace } = parsed.value;
  return { ok: true, value: trace ? { type, id: orderId, trace } : { type, id: orderId } };
}

/** The `items` field of an order hash (JSON), as stored by the accept script. */
export function parseStoredItems(json: string | null | undefined): OrderItem[] {
  if (!json) return [];
  return JSON.parse(json) as OrderItem[];
}
