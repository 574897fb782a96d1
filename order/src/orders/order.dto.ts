import type { OrderItem, OrderStatus, OrderStatusName, OrderView } from '@eo/contract';

export type { OrderView } from '@eo/contract';

/** A validated `POST /orders` body. */
export interface PlaceOrderRequest {
  items: OrderItem[];
  /** Client-chosen id; the server makes a UUID when absent. */
  orderId?: string;
}

/** The 202 answer to a newly accepted order. */
export interface AcceptedOrder {
  orderId: string;
  status: typeof OrderStatus.Pending;
}

/**
 * Turns an `order:<id>` hash into an {@link OrderView}, or undefined when the hash is absent.
 * Internal fields (bodyHash, commitToken, lastError) stay private.
 */
export function toOrderView(orderId: string, hash: Record<string, string | undefined>): OrderView | undefined {
  if (hash.status === undefined || hash.items === undefined) return undefined;
  // Built in the documented field order, optional fields only when set, so the JSON reads the same every time.
  return {
    orderId,
    status: hash.status as OrderStatusName,
    items: JSON.parse(hash.items) as OrderItem[],
    createdAt: hash.createdAt ?? '',
    updatedAt: hash.updatedAt ?? hash.createdAt ?? '',
    ...(hash.processedAt ? { processedAt: hash.processedAt } : {}),
    ...(hash.processedBy ? { processedBy: hash.processedBy } : {}),
    attempts: Number(hash.attempts ?? 0),
    ...(hash.reason ? { reason: hash.reason } : {}),
  };
}
