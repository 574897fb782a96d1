import { Controller, Get, HttpCode, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import { OrderStatus, type OrderStatusName, type Validated } from '@eo/contract';
import { FieldValidationException } from '@eo/platform';
import { validateOrderIdParam } from '../orders/order-request.validation';
import { AdminGuard } from './admin.guard';
import { AdminService, type OrderPage } from './admin.service';

const STATUSES = Object.values(OrderStatus) as string[];

function valid<T>(result: Validated<T>): T {
  if (!result.ok) throw new FieldValidationException(result.error);
  return result.value;
}

/**
 * The admin API, on when `ADMIN_TOKEN` is set: `GET /orders?status=FAILED&limit=&cursor=` and
 * `POST /orders/:id/retry`, each with `Authorization: Bearer <ADMIN_TOKEN>`.
 */
@Controller('orders')
@UseGuards(AdminGuard)
export class AdminController {
  constructor(private readonly admin: AdminService) {}

  @Get()
  list(@Query('status') status: unknown, @Query('limit') limit: unknown, @Query('cursor') cursor: unknown): Promise<OrderPage> {
    const wanted = status === undefined ? OrderStatus.Failed : status;
    if (typeof wanted !== 'string' || !STATUSES.includes(wanted)) {
      throw new FieldValidationException({ field: 'status', message: `must be one of ${STATUSES.join(', ')}` });
    }
    let pageSize = 100;
    if (limit !== undefined) {
      if (typeof limit !== 'string' || !/^\d{1,4}$/.test(limit) || Number(limit) < 1 || Number(limit) > 1000) {
        throw new FieldValidationException({ field: 'limit', message: 'must be an integer from 1 to 1000' });
      }
      pageSize = Number(limit);
    }
    if (cursor !== undefined && (typeof cursor !== 'string' || !/^[A-Za-z0-9_.:-]{1,200}$/.test(cursor))) {
      throw new FieldValidationException({ field: 'cursor', message: 'must be a nextCursor of an earlier page' });
    }
    return this.admin.list(wanted as OrderStatusName, pageSize, cursor);
  }

  @Post(':id/retry')
  @HttpCode(202)
  retry(@Param('id') id: unknown, @Req() request: { id: string }): Promise<{ orderId: string; status: 'PENDING' }> {
    return this.admin.retry(valid(validateOrderIdParam(id)), request.id);
  }
}
