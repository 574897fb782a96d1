import { Inject, Injectable } from '@nestjs/common';
import type { OrderItem } from '@eo/contract';
import { sleep } from '@eo/exactly-once';
import { INVENTORY_CONFIG, type InventoryConfig } from '../config';

/** The failure INVENTORY_FAIL_SKU_PREFIX injects (test-only; see InventoryConfig.failSkuPrefix). */
export class InjectedFaultError extends Error {
  constructor(readonly sku: string) {
    super(`injected fault: downstream refused SKU ${sku}`);
    this.name = 'InjectedFaultError';
  }
}

/**
 * The work between claim and commit. The reservation itself is applied atomically by
 * `reserve-stock.lua`; this step stands for the downstream call a real inventory makes first (a
 * warehouse API, a fraud check), simulated by `INVENTORY_WORK_DELAY_MS`. It honours `signal`, so a
 * lost lease or a shutdown stops it at once.
 */
@Injectable()
export class ReservationsService {
  constructor(@Inject(INVENTORY_CONFIG) private readonly config: InventoryConfig) {}

  /** The work before a release commits: the same simulated downstream call, which never fails. */
  async prepareRelease(signal: AbortSignal): Promise<void> {
    if (this.config.workDelayMs > 0) await sleep(this.config.workDelayMs, signal);
  }

  /** Runs the pre-commit work for one claimed order. */
  async prepare(order: { orderId: string; items: OrderItem[] }, signal: AbortSignal): Promise<void> {
    if (this.config.workDelayMs > 0) await sleep(this.config.workDelayMs, signal);
    const prefix = this.config.failSkuPrefix;
    const poisoned = prefix === undefined ? undefined : order.items.find((item) => item.sku.startsWith(prefix));
    if (poisoned) throw new InjectedFaultError(poisoned.sku);
  }
}
