import { Body, Controller, Get, HttpCode, NotFoundException, Param, Put, Query } from '@nestjs/common';
import { OrderLimits } from '@eo/contract';
import { FieldValidationException } from '@eo/platform';
import { type StockPage, StockService, type StockView } from './stock.service';

function checkSku(sku: string): void {
  if (!OrderLimits.skuPattern.test(sku)) {
    throw new FieldValidationException({ field: 'sku', message: 'must be 1 to 64 characters of A-Z a-z 0-9 . _ : -' });
  }
}

/** `PUT/GET /inventory/:sku` and the paged `GET /inventory`. */
@Controller('inventory')
export class StockController {
  constructor(private readonly stock: StockService) {}

  @Put(':sku')
  @HttpCode(200)
  async set(@Param('sku') sku: string, @Body() body: unknown): Promise<StockView> {
    checkSku(sku);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new FieldValidationException({ field: 'body', message: 'must be a JSON object like {"available": 10}' });
    }
    const { available, ...rest } = body as Record<string, unknown>;
    const unknown = Object.keys(rest)[0];
    if (unknown !== undefined) throw new FieldValidationException({ field: unknown, message: 'is not a known field' });
    if (typeof available !== 'number' || !Number.isSafeInteger(available) || available < 0) {
      throw new FieldValidationException({ field: 'available', message: 'must be an integer >= 0' });
    }
    return this.stock.set(sku, available);
  }

  @Get(':sku')
  async get(@Param('sku') sku: string): Promise<StockView> {
    checkSku(sku);
    const view = await this.stock.get(sku);
    if (!view) throw new NotFoundException({ statusCode: 404, error: 'Not Found', message: `sku ${sku} is not stocked` });
    return view;
  }

  @Get()
  async list(@Query('limit') limitParam?: string, @Query('cursor') cursor?: string): Promise<StockPage> {
    let limit = 100;
    if (limitParam !== undefined) {
      if (!/^\d+$/.test(limitParam) || Number(limitParam) < 1 || Number(limitParam) > 1000) {
        throw new FieldValidationException({ field: 'limit', message: 'must be an integer from 1 to 1000' });
      }
      limit = Number(limitParam);
    }
    if (cursor !== undefined) checkSkuCursor(cursor);
    return this.stock.list(limit, cursor);
  }
}

function checkSkuCursor(cursor: string): void {
  if (!OrderLimits.skuPattern.test(cursor))
    throw new FieldValidationException({ field: 'cursor', message: 'must be a SKU returned as nextCursor' });
}
