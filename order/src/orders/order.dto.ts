import type { OrderItem, OrderStatus } from '@eo/contract';

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
