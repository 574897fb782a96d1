import type { Redis } from 'ioredis';
import { LogEvent, OrderStatus, OrderStore, type OrderItem, type RedisKeys } from '@eo/contract';
import { mapLimit, requestJson } from './http';
import type { LogLine } from './service-process';

/** What the checker needs to know about one order; `undefined` when it does not exist. */
export interface OrderState {
  status: string | undefined;
  items: OrderItem[] | undefined;
  processedBy: string | undefined;
  /** `requested` while a RESERVED order's cancellation is under way. */
  cancel?: 'requested';
}

/** One SKU's stock; `undefined` when it does not exist. */
export interface StockState {
  available: number;
  reserved: number;
}

/** Where the checker reads the system's state from (Redis directly, or the services' HTTP APIs). */
export interface StateReader {
  orders(orderIds: readonly string[]): Promise<Array<OrderState | undefined>>;
  stock(skus: readonly string[]): Promise<Array<StockState | undefined>>;
  /** Size of `orders:pending` and which of `orderIds` are on it; undefined when not observable. */
  backlog(orderIds: readonly string[]): Promise<{ total: number; orderIds: string[] } | undefined>;
}

/** Reads state straight from Redis through the contract's {@link OrderStore} (pipelined). */
export class RedisStateReader implements StateReader {
  private readonly store: OrderStore;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {
    this.store = new OrderStore(redis, keys);
  }

  async orders(orderIds: readonly string[]): Promise<Array<OrderState | undefined>> {
    const views = await this.store.views(orderIds);
    return views.map((view) => view && { status: view.status, items: view.items, processedBy: view.processedBy, cancel: view.cancel });
  }

  stock(skus: readonly string[]): Promise<Array<StockState | undefined>> {
    return this.store.stock(skus);
  }

  async backlog(orderIds: readonly string[]): Promise<{ total: number; orderIds: string[] }> {
    const total = await this.redis.zcard(this.keys.pending);
    if (total === 0) return { total, orderIds: [] };
    const pending = new Set(await this.redis.zrange(this.keys.pending, 0, -1));
    return { total, orderIds: orderIds.filter((id) => pending.has(id)) };
  }
}

/**
 * Reads state through the services' HTTP APIs (`GET /orders/:id`, `GET /inventory/:sku`), for a
 * system whose Redis this process cannot reach. The backlog is not observable this way.
 */
export class HttpStateReader implements StateReader {
  constructor(
    private readonly orderUrl: string,
    private readonly inventoryUrl: string,
    private readonly concurrency = 32,
  ) {}

  async orders(orderIds: readonly string[]): Promise<Array<OrderState | undefined>> {
    return mapLimit(orderIds, this.concurrency, async (id) => {
      const reply = await requestJson<{ status?: string; items?: OrderItem[]; processedBy?: string; cancel?: 'requested' }>(
        `${this.orderUrl}/orders/${encodeURIComponent(id)}`,
      );
      if (reply.status === 404) return undefined;
      if (reply.status !== 200) throw new Error(`GET /orders/${id} answered ${reply.status}`);
      const { status, items, processedBy, cancel } = reply.body;
      return { status, items, processedBy, cancel };
    });
  }

  async stock(skus: readonly string[]): Promise<Array<StockState | undefined>> {
    return mapLimit(skus, this.concurrency, async (sku) => {
      const reply = await requestJson<{ available: number; reserved: number }>(`${this.inventoryUrl}/inventory/${encodeURIComponent(sku)}`);
      if (reply.status === 404) return undefined;
      if (reply.status !== 200) throw new Error(`GET /inventory/${sku} answered ${reply.status}`);
      return { available: reply.body.available, reserved: reply.body.reserved };
    });
  }

  backlog(): Promise<undefined> {
    return Promise.resolve(undefined);
  }
}

/** What to check. Give `redis` + `keys`, or a `reader`. */
export interface InvariantInput {
  redis?: Redis;
  keys?: RedisKeys;
  reader?: StateReader;
  /** Every order id the order service answered 202 for. */
  acceptedOrderIds: readonly string[];
  /** `available` per SKU before the run (with `reserved` 0); only these SKUs are checked for drift. */
  initialStock: Readonly<Record<string, number>>;
  /** All collected log lines of all services; omit when logs are not available (skips log checks). */
  logs?: readonly LogLine[];
  /** FAILED orders are not a violation (default: they are; nothing in a healthy run fails). */
  allowFailed?: boolean;
  /**
   * A decided order without its `order.processed` line, or a CANCELLED one without its
   * `order.cancelled` line, is not a violation (a replica SIGKILLed between commit and log).
   * Default: it is.
   */
  allowMissingProcessedLog?: boolean;
  /** Anything on the backlog is a violation (default true); false checks only the accepted ids. */
  backlogMustBeEmpty?: boolean;
  /**
   * The answers to `POST /orders/:id/cancel` during the run: a 200 or 202 must end CANCELLED, a 409
   * only for an order that ended REJECTED or FAILED.
   */
  cancelAnswers?: ReadonlyArray<{ orderId?: string; status: number }>;
}

/** One SKU's stock check. */
export interface SkuReport {
  sku: string;
  initial: number;
  available: number;
  reserved: number;
  /** Σ quantities of this SKU over the RESERVED accepted orders (CANCELLED ones gave theirs back). */
  expectedReserved: number;
  /** `initial - (available + reserved)`: stock created or destroyed (0 when conserved). */
  drift: number;
}

/** An order with more than one `order.processed` (or `order.cancelled`) line. */
export interface DuplicateProcessing {
  orderId: string;
  count: number;
  replicas: string[];
}

/** The checker's findings; `ok` is true when `violations` is empty. */
export interface InvariantReport {
  accepted: number;
  reserved: number;
  rejected: number;
  failed: number;
  cancelled: number;
  /** Accepted orders still PENDING, or RESERVED with their cancellation still under way. */
  pending: number;
  /** Accepted orders missing from Redis or never terminal. */
  lost: string[];
  /** Orders with more than one `order.processed` line (empty when no logs were given). */
  processedTwice: DuplicateProcessing[];
  /** Orders with more than one `order.cancelled` line: a release applied or logged twice (empty when no logs were given). */
  cancelledTwice: DuplicateProcessing[];
  /** CANCELLED orders by their `order.cancelled` line: reservation given back, or cancelled before any (undefined without logs). */
  cancellations: { released: number; beforeProcessing: number } | undefined;
  /**
   * Decided orders without their line: RESERVED/REJECTED without `order.processed`, CANCELLED
   * without `order.cancelled` (or, when released, without the `order.processed` of its reservation).
   */
  unlogged: string[];
  /** Decided (RESERVED, REJECTED, CANCELLED) accepted orders per `processedBy`: who made the last change. */
  processedPerReplica: Record<string, number>;
  /** `order.processed` lines per `replica` (empty when no logs were given). */
  processedLogsPerReplica: Record<string, number>;
  skus: SkuReport[];
  /** SKUs whose stock is not conserved. */
  drift: Array<{ sku: string; drift: number }>;
  /** SKUs with `available < 0`. */
  oversold: string[];
  /** SKUs whose `reserved` differs from the RESERVED orders' quantities. */
  reservedMismatch: Array<{ sku: string; reserved: number; expected: number }>;
  /** `orders:pending` after the run; undefined when not observable. */
  backlog: { total: number; orderIds: string[] } | undefined;
  /** Whether log-based checks ran. */
  logsChecked: boolean;
  violations: string[];
  ok: boolean;
}

function sample(ids: readonly string[], n = 5): string {
  return ids.slice(0, n).join(', ') + (ids.length > n ? `, … (${ids.length} in all)` : '');
}

function increment(record: Record<string, number>, key: string, by = 1): void {
  record[key] = (record[key] ?? 0) + by;
}

/** Groups the lines of `event` by order id, counting them per replica into `perReplica` when given. */
function linesByOrder(logs: readonly LogLine[], event: string, perReplica?: Record<string, number>): Map<string, LogLine[]> {
  const byOrder = new Map<string, LogLine[]>();
  for (const line of logs) {
    if (line.event !== event || typeof line.orderId !== 'string') continue;
    if (perReplica) increment(perReplica, line.replica ?? '(unknown)');
    const lines = byOrder.get(line.orderId);
    if (lines) lines.push(line);
    else byOrder.set(line.orderId, [line]);
  }
  return byOrder;
}

function duplicates(byOrder: Map<string, LogLine[]>): DuplicateProcessing[] {
  const out: DuplicateProcessing[] = [];
  for (const [orderId, lines] of byOrder) {
    if (lines.length > 1) out.push({ orderId, count: lines.length, replicas: lines.map((l) => l.replica ?? '(unknown)') });
  }
  return out;
}

function describeDuplicates(duplicated: DuplicateProcessing[], event: string): string {
  const shown = duplicated.slice(0, 5).map((d) => `${d.orderId} ×${d.count} by ${d.replicas.join('+')}`);
  return `${duplicated.length} order(s) with more than one ${event} line: ${shown.join('; ')}`;
}

/**
 * Checks the invariants of docs/design.md after a run: every accepted order exactly one terminal
 * status and at most (with logs: exactly) one `order.processed` line, and a CANCELLED one exactly one
 * `order.cancelled` line; no oversell; per SKU `initial = available + reserved` and
 * `reserved = Σ RESERVED quantities` (CANCELLED orders excluded); nothing left on the backlog.
 */
export async function checkInvariants(input: InvariantInput): Promise<InvariantReport> {
  const reader = input.reader ?? (input.redis && input.keys ? new RedisStateReader(input.redis, input.keys) : undefined);
  if (!reader) throw new Error('checkInvariants needs a reader, or redis and keys');
  const ids = [...new Set(input.acceptedOrderIds)];
  const violations: string[] = [];

  const states = await reader.orders(ids);
  let reserved = 0;
  let rejected = 0;
  let failed = 0;
  let cancelled = 0;
  const pendingIds: string[] = [];
  const missing: string[] = [];
  const strange: string[] = [];
  const failedIds: string[] = [];
  const decided = new Map<string, string>();
  const processedPerReplica: Record<string, number> = {};
  const expectedReserved: Record<string, number> = {};
  ids.forEach((id, i) => {
    const state = states[i];
    if (!state) return missing.push(id);
    switch (state.status) {
      case OrderStatus.Pending:
        return pendingIds.push(id);
      case OrderStatus.Failed:
        failed++;
        return failedIds.push(id);
      case OrderStatus.Reserved:
        // Its stock is still reserved while the release is under way; but the order is not done.
        for (const item of state.items ?? []) increment(expectedReserved, item.sku, item.quantity);
        if (state.cancel) return pendingIds.push(id);
        reserved++;
        break;
      case OrderStatus.Rejected:
        rejected++;
        break;
      case OrderStatus.Cancelled:
        cancelled++;
        break;
      default:
        return strange.push(`${id}=${String(state.status)}`);
    }
    decided.set(id, state.status);
    increment(processedPerReplica, state.processedBy ?? '(none)');
  });
  const lost = [...missing, ...pendingIds];
  if (missing.length) violations.push(`${missing.length} accepted order(s) missing from Redis: ${sample(missing)}`);
  if (pendingIds.length) {
    violations.push(
      `${pendingIds.length} accepted order(s) never reached a terminal status (or their cancellation never finished): ${sample(pendingIds)}`,
    );
  }
  if (strange.length) violations.push(`${strange.length} order(s) with an unknown status: ${sample(strange)}`);
  if (failed && !input.allowFailed) violations.push(`${failed} order(s) FAILED (attempts exhausted): ${sample(failedIds)}`);
  if (processedPerReplica['(none)']) violations.push(`${processedPerReplica['(none)']} decided order(s) without processedBy`);

  // Cancellations: what the API answered is what happened.
  const statusOf = new Map(ids.map((id, i) => [id, states[i]?.status]));
  const unhonoured: string[] = [];
  const wronglyRefused: string[] = [];
  for (const { orderId, status } of input.cancelAnswers ?? []) {
    if (orderId === undefined) continue;
    const final = statusOf.get(orderId);
    if ((status === 200 || status === 202) && final !== OrderStatus.Cancelled) unhonoured.push(`${orderId}=${String(final)}`);
    if (status === 409 && final !== OrderStatus.Rejected && final !== OrderStatus.Failed)
      wronglyRefused.push(`${orderId}=${String(final)}`);
  }
  if (unhonoured.length) violations.push(`${unhonoured.length} cancellation(s) answered 200/202 not CANCELLED: ${sample(unhonoured)}`);
  if (wronglyRefused.length)
    violations.push(`${wronglyRefused.length} cancellation(s) refused 409 for an order that could be cancelled: ${sample(wronglyRefused)}`);

  // Logs: exactly one order.processed per decided order, agreeing with the stored outcome; exactly
  // one order.cancelled per CANCELLED order, and an order.processed before it only when it released.
  let processedTwice: DuplicateProcessing[] = [];
  let cancelledTwice: DuplicateProcessing[] = [];
  let cancellations: InvariantReport['cancellations'];
  const unlogged: string[] = [];
  const processedLogsPerReplica: Record<string, number> = {};
  if (input.logs) {
    const processed = linesByOrder(input.logs, LogEvent.OrderProcessed, processedLogsPerReplica);
    const cancelledLines = linesByOrder(input.logs, LogEvent.OrderCancelled);
    processedTwice = duplicates(processed);
    cancelledTwice = duplicates(cancelledLines);
    if (processedTwice.length) violations.push(describeDuplicates(processedTwice, LogEvent.OrderProcessed));
    if (cancelledTwice.length) violations.push(describeDuplicates(cancelledTwice, LogEvent.OrderCancelled));
    cancellations = { released: 0, beforeProcessing: 0 };
    const mismatched: string[] = [];
    for (const [orderId, status] of decided) {
      const lines = processed.get(orderId);
      const cancel = cancelledLines.get(orderId)?.[0];
      if (status !== OrderStatus.Cancelled) {
        if (!lines) unlogged.push(orderId);
        else if (lines.some((l) => String(l.outcome).toUpperCase() !== status)) mismatched.push(orderId);
        if (cancel) mismatched.push(orderId);
      } else if (!cancel) {
        unlogged.push(orderId);
      } else if (cancel.released === true) {
        cancellations.released++;
        if (!lines) unlogged.push(orderId);
        else if (lines.some((l) => l.outcome !== 'reserved')) mismatched.push(orderId);
      } else {
        cancellations.beforeProcessing++;
        // Cancelled while PENDING: no replica may have committed a reservation.
        if (lines) mismatched.push(orderId);
      }
    }
    if (unlogged.length && !input.allowMissingProcessedLog) {
      violations.push(
        `${unlogged.length} decided order(s) without their order.processed or order.cancelled line: ${sample(unlogged.map((id) => `${id}=${decided.get(id)}`))}`,
      );
    }
    if (mismatched.length)
      violations.push(`${mismatched.length} order(s) whose logged outcome differs from the stored status: ${sample(mismatched)}`);
  }

  // Stock: conserved, never negative, reserved matching the RESERVED orders.
  const skuNames = Object.keys(input.initialStock);
  const stocks = await reader.stock(skuNames);
  const skus: SkuReport[] = [];
  const drift: InvariantReport['drift'] = [];
  const oversold: string[] = [];
  const reservedMismatch: InvariantReport['reservedMismatch'] = [];
  skuNames.forEach((sku, i) => {
    const initial = input.initialStock[sku];
    const stock = stocks[i] ?? { available: 0, reserved: 0 };
    const expected = expectedReserved[sku] ?? 0;
    const report: SkuReport = {
      sku,
      initial,
      available: stock.available,
      reserved: stock.reserved,
      expectedReserved: expected,
      drift: initial - (stock.available + stock.reserved),
    };
    skus.push(report);
    if (report.drift !== 0) drift.push({ sku, drift: report.drift });
    if (stock.available < 0) oversold.push(sku);
    if (stock.reserved !== expected) reservedMismatch.push({ sku, reserved: stock.reserved, expected });
  });
  if (drift.length)
    violations.push(
      `stock not conserved (initial - (available + reserved)): ${drift.map((d) => `${d.sku} ${d.drift > 0 ? '+' : ''}${d.drift}`).join(', ')}`,
    );
  if (oversold.length)
    violations.push(
      `oversold (available < 0): ${oversold.map((sku) => `${sku}=${skus.find((s) => s.sku === sku)!.available}`).join(', ')}`,
    );
  if (reservedMismatch.length) {
    violations.push(
      `reserved stock differs from the RESERVED orders: ${reservedMismatch.map((m) => `${m.sku} reserved ${m.reserved}, orders ${m.expected}`).join(', ')}`,
    );
  }

  const backlog = await reader.backlog(ids);
  if (backlog) {
    if (backlog.orderIds.length)
      violations.push(`${backlog.orderIds.length} accepted order(s) still on the backlog: ${sample(backlog.orderIds)}`);
    else if (backlog.total > 0 && (input.backlogMustBeEmpty ?? true)) violations.push(`${backlog.total} entr(ies) left on the backlog`);
  }

  return {
    accepted: ids.length,
    reserved,
    rejected,
    failed,
    cancelled,
    pending: pendingIds.length,
    lost,
    processedTwice,
    cancelledTwice,
    cancellations,
    unlogged,
    processedPerReplica,
    processedLogsPerReplica,
    skus,
    drift,
    oversold,
    reservedMismatch,
    backlog,
    logsChecked: input.logs !== undefined,
    violations,
    ok: violations.length === 0,
  };
}

/** A human-readable summary of a report (the demo prints it; tests attach it to failures). */
export function formatReport(report: InvariantReport): string {
  const perReplica = Object.entries(report.processedPerReplica)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([replica, n]) => `${replica}: ${n}`)
    .join(', ');
  const lines = [
    `accepted        ${report.accepted}`,
    `reserved        ${report.reserved}`,
    `rejected        ${report.rejected}`,
    `failed          ${report.failed}`,
    `cancelled       ${report.cancelled}${report.cancellations ? ` (${report.cancellations.beforeProcessing} before processing, ${report.cancellations.released} released)` : ''}`,
    `lost            ${report.lost.length}${report.pending ? ` (${report.pending} still PENDING)` : ''}`,
    `processed twice ${report.logsChecked ? report.processedTwice.length : 'n/a (no logs; checked through reserved stock vs RESERVED orders)'}`,
    `released twice  ${report.logsChecked ? report.cancelledTwice.length : 'n/a (no logs; checked through stock drift)'}`,
    `stock drift     ${report.drift.length === 0 ? '0' : report.drift.map((d) => `${d.sku}:${d.drift}`).join(' ')}`,
    `oversold SKUs   ${report.oversold.length}`,
    `reserved = Σ RESERVED quantities: ${report.reservedMismatch.length === 0 ? 'yes' : 'NO'} (${report.skus.length} SKUs)`,
    `backlog left    ${report.backlog ? report.backlog.total : 'n/a'}`,
    `per replica     ${perReplica || '-'}`,
  ];
  lines.push(report.ok ? 'OK: no violation' : `VIOLATIONS:\n${report.violations.map((v) => `  - ${v}`).join('\n')}`);
  return lines.join('\n');
}
