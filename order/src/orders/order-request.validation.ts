import { isValidOrderId, validateItems, type Validated } from '@eo/contract';
import type { PlaceOrderRequest } from './order.dto';

/** Longest `GET ?waitMs` hold. */
export const MAX_WAIT_MS = 30_000;

const BODY_FIELDS: ReadonlySet<string> = new Set(['items', 'orderId']);
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,128}$/;
const ORDER_ID_RULE = 'must be 1 to 64 characters of A-Z a-z 0-9 _ -';

function fail<T>(field: string, message: string): Validated<T> {
  return { ok: false, error: { field, message } };
}

/**
 * Validates a `POST /orders` body: a JSON object with `items` and an optional `orderId`, nothing
 * else. Unknown fields are refused rather than ignored so a misspelt `orderId` cannot silently
 * turn an idempotent retry into a second order.
 */
export function validatePlaceOrder(body: unknown): Validated<PlaceOrderRequest> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return fail('body', 'must be a JSON object');
  const fields = body as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!BODY_FIELDS.has(key)) return fail(key, 'is not a known field');
  }
  const items = validateItems(fields.items);
  if (!items.ok) return items;
  if (fields.orderId === undefined) return { ok: true, value: { items: items.value } };
  if (!isValidOrderId(fields.orderId)) return fail('orderId', ORDER_ID_RULE);
  return { ok: true, value: { items: items.value, orderId: fields.orderId } };
}

/** Validates the optional `Idempotency-Key` header: 1–128 characters of `A-Z a-z 0-9 _ . : -`. */
export function validateIdempotencyKey(value: unknown): Validated<string | undefined> {
  if (value === undefined) return { ok: true, value: undefined };
  if (typeof value !== 'string' || !IDEMPOTENCY_KEY.test(value)) {
    return fail('Idempotency-Key', 'must be 1 to 128 characters of A-Z a-z 0-9 _ . : -');
  }
  return { ok: true, value };
}

/**
 * Validates a `POST /orders/:id/cancel` body: a cancellation takes no fields, so the body is absent
 * (or empty) or `{}`; anything else is refused rather than silently ignored.
 */
export function validateCancelBody(value: unknown): Validated<void> {
  if (value === undefined || value === null || value === '') return { ok: true, value: undefined };
  if (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0) return { ok: true, value: undefined };
  return fail('body', 'must be absent or {}: a cancellation takes no fields');
}

/** Validates the `:id` path parameter. */
export function validateOrderIdParam(value: unknown): Validated<string> {
  return isValidOrderId(value) ? { ok: true, value } : fail('id', ORDER_ID_RULE);
}

/** Validates `?waitMs`: absent means 0 (answer at once), else an integer from 0 to {@link MAX_WAIT_MS}. */
export function validateWaitMs(value: unknown): Validated<number> {
  if (value === undefined) return { ok: true, value: 0 };
  if (typeof value === 'string' && /^\d{1,5}$/.test(value) && Number(value) <= MAX_WAIT_MS) {
    return { ok: true, value: Number(value) };
  }
  return fail('waitMs', `must be an integer from 0 to ${MAX_WAIT_MS}`);
}
