import { Body, Controller, Get, Headers, Param, Post, Query, Res } from '@nestjs/common';
import { type Validated } from '@eo/contract';
import { FieldValidationException } from '@eo/platform';
import type { AcceptedOrder, OrderView } from './order.dto';
import {
  validateCancelBody,
  validateIdempotencyKey,
  validateOrderIdParam,
  validatePlaceOrder,
  validateWaitMs,
} from './order-request.validation';
import { type CancelRequested, OrdersService } from './orders.service';

/** The part of the HTTP reply a handler touches: the status of a 200-or-202 answer. */
interface StatusReply {
  status(code: number): unknown;
}

function valid<T>(result: Validated<T>): T {
  if (!result.ok) throw new FieldValidationException(result.error);
  return result.value;
}

/** `POST /orders`, `GET /orders/:id` and `POST /orders/:id/cancel`. Input is validated by hand: every rule names its field. */
@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  /** Accepts an order: 202 when new, 200 with the stored order for a replay, 409 for a conflicting reuse. */
  @Post()
  async place(
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: unknown,
    @Res({ passthrough: true }) reply: StatusReply,
  ): Promise<AcceptedOrder | OrderView> {
    const key = valid(validateIdempotencyKey(idempotencyKey));
    const request = valid(validatePlaceOrder(body));
    const outcome = await this.orders.place(request, key);
    reply.status(outcome.status);
    return outcome.body;
  }

  /**
   * Cancels an order: 200 with the CANCELLED order when it was PENDING (or a repeat), 202 while a
   * RESERVED one's stock is given back, 409 for a REJECTED or FAILED order, 404 for none.
   */
  @Post(':id/cancel')
  async cancel(
    @Param('id') id: unknown,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: unknown,
    @Res({ passthrough: true }) reply: StatusReply,
  ): Promise<CancelRequested | OrderView> {
    const orderId = valid(validateOrderIdParam(id));
    const key = valid(validateIdempotencyKey(idempotencyKey));
    valid(validateCancelBody(body));
    const outcome = await this.orders.cancel(orderId, key);
    reply.status(outcome.status);
    return outcome.body;
  }

  /** The order; with `?waitMs=N` held until it is terminal or N ms pass. */
  @Get(':id')
  async get(@Param('id') id: unknown, @Query('waitMs') waitMs: unknown): Promise<OrderView> {
    const orderId = valid(validateOrderIdParam(id));
    return this.orders.waitForTerminal(orderId, valid(validateWaitMs(waitMs)));
  }
}
