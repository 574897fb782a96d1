import { LogEvent } from '@eo/contract';
import type { LogRecord, ParsedLine } from './log-lines';

/** The events the audit reads; the Datadog query asks for exactly these. */
export const AUDITED_EVENTS: readonly string[] = [
  LogEvent.OrderAccepted,
  LogEvent.OrderProcessed,
  LogEvent.OrderFailed,
  LogEvent.OrderCancelled,
  LogEvent.OrderCancelRequested,
  LogEvent.OrderLeaseLost,
  LogEvent.OrderSkipped,
  LogEvent.MessageInvalid,
];

/** The services whose lines the audit reads. */
export const AUDITED_SERVICES: readonly string[] = ['order', 'inventory'];

/** One `order.processed` line. */
export interface Processing {
  replica: string;
  /** ISO time of the line, when it had one. */
  time: string | undefined;
  outcome: string;
  attempt?: number;
  /** The commit script answered `replayed` (a re-run with the same token after a lost reply). */
  replayed?: boolean;
}

/** An order with more than one `order.processed` line. */
export interface DuplicateProcessing {
  orderId: string;
  count: number;
  replicas: string[];
  processings: Processing[];
}

/** One `order.cancelled` line: from the order service (`released: false`) or the replica that released. */
export interface Cancellation {
  replica: string;
  time: string | undefined;
  released: boolean;
}

/** An order with more than one `order.cancelled` line: a release applied (or logged) twice. */
export interface DuplicateCancellation {
  orderId: string;
  count: number;
  cancellations: Cancellation[];
}

/** An `order.lease_lost` line. */
export interface LeaseLoss {
  orderId: string | undefined;
  replica: string;
  stage: string;
  time: string | undefined;
}

/** What the audit found; `ok` is true when `violations` is empty. */
export interface AuditReport {
  input: {
    /** JSON records read (after the `--env` filter). */
    records: number;
    /** Records carrying one of {@link AUDITED_EVENTS}. */
    events: number;
    first: string | undefined;
    last: string | undefined;
  };
  /** Distinct orders with an `order.accepted` line. */
  accepted: number;
  processed: {
    /** Distinct orders with at least one `order.processed` line. */
    orders: number;
    lines: number;
    byOutcome: Record<string, number>;
  };
  /** Orders with more than one `order.processed` line, with every line's replica and time. */
  duplicates: DuplicateProcessing[];
  /** Orders with an `order.cancelled` line: released by a replica, or cancelled before processing. */
  cancelled: { orders: number; released: number; beforeProcessing: number };
  /** Orders with more than one `order.cancelled` line. */
  cancelledTwice: DuplicateCancellation[];
  /** Cancellation requested (`order.cancel_requested`) before the grace window, and no `order.cancelled` line: stock not given back. */
  unreleased: Array<{ orderId: string; requestedAt: string | undefined }>;
  /** Accepted before the grace window, and neither processed nor FAILED. */
  lost: Array<{ orderId: string; acceptedAt: string | undefined }>;
  /** Accepted within `graceSeconds` of the newest line and not processed yet: not judged. */
  inFlight: string[];
  /** Orders that ended FAILED (`order.failed`), not lost. */
  failed: string[];
  /**
   * Orders with `order.failed` and another terminal line (`order.processed` or a second
   * `order.failed`), or cancelled before processing (`released: false`) and yet processed.
   */
  conflicting: Array<{ orderId: string; processed: number; failed: number }>;
  /** Processed, but no `order.accepted` line in the input (the order service's logs may be missing). */
  processedWithoutAccepted: string[];
  leaseLost: { total: number; byStage: Record<string, number>; events: LeaseLoss[] };
  skipped: Record<string, number>;
  /** `order.processed` lines per replica. */
  processedPerReplica: Record<string, number>;
  invalidMessages: { total: number; byReplica: Record<string, number> };
  graceSeconds: number;
  /** False when the input held no `order.accepted` line: then losses cannot be judged. */
  lossChecked: boolean;
  violations: string[];
  ok: boolean;
}

/** How to read the records. */
export interface AuditOptions {
  /** Orders accepted within this many seconds of the newest line are in flight, not lost (default 30). */
  graceSeconds?: number;
  /** Only records whose `env` is this. */
  env?: string;
}

interface OrderTrail {
  acceptedAt: number | undefined;
  accepted: boolean;
  processed: Processing[];
  failed: number;
  cancelled: Cancellation[];
  cancelRequestedAt: number | undefined;
}

const UNKNOWN = '(unknown)';

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function epochMs(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

function increment(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}

function sample(ids: readonly string[], n = 5): string {
  return ids.slice(0, n).join(', ') + (ids.length > n ? `, … (${ids.length} in all)` : '');
}

/**
 * Folds log records into an {@link AuditReport}. Order-independent: lines from several files or
 * replicas can come in any order; only the newest time seen matters (for the grace window).
 */
export class AuditFold {
  private readonly orders = new Map<string, OrderTrail>();
  private readonly leaseLosses: LeaseLoss[] = [];
  private readonly skipped: Record<string, number> = {};
  private readonly processedPerReplica: Record<string, number> = {};
  private readonly invalidByReplica: Record<string, number> = {};
  private readonly byOutcome: Record<string, number> = {};
  private processedLines = 0;
  private invalid = 0;
  private records = 0;
  private events = 0;
  private first: number | undefined;
  private last: number | undefined;
  private readonly graceSeconds: number;

  constructor(private readonly options: AuditOptions = {}) {
    this.graceSeconds = options.graceSeconds ?? 30;
  }

  /** Adds one parsed line (the prefix names the replica when the record does not). */
  addLine(line: ParsedLine): void {
    this.add(line.record, line.prefixName);
  }

  /** Adds one record; records of another `env` and lines without an audited event only count as seen. */
  add(record: LogRecord, fallbackReplica?: string): void {
    if (this.options.env !== undefined && record.env !== this.options.env) return;
    this.records++;
    const time = epochMs(record.time);
    if (time !== undefined) {
      if (this.first === undefined || time < this.first) this.first = time;
      if (this.last === undefined || time > this.last) this.last = time;
    }
    const event = text(record.event);
    if (event === undefined || !AUDITED_EVENTS.includes(event)) return;
    this.events++;
    const replica = text(record.replica) ?? fallbackReplica ?? UNKNOWN;
    const orderId = text(record.orderId);
    switch (event) {
      case LogEvent.OrderAccepted: {
        if (orderId === undefined) return;
        const trail = this.trail(orderId);
        trail.accepted = true;
        trail.acceptedAt ??= time;
        return;
      }
      case LogEvent.OrderProcessed: {
        const outcome = text(record.outcome) ?? UNKNOWN;
        this.processedLines++;
        increment(this.byOutcome, outcome);
        increment(this.processedPerReplica, replica);
        if (orderId === undefined) return;
        const processing: Processing = { replica, time: iso(time), outcome };
        if (typeof record.attempt === 'number') processing.attempt = record.attempt;
        if (record.replayed === true) processing.replayed = true;
        this.trail(orderId).processed.push(processing);
        return;
      }
      case LogEvent.OrderFailed:
        if (orderId !== undefined) this.trail(orderId).failed++;
        return;
      case LogEvent.OrderCancelled:
        if (orderId !== undefined) this.trail(orderId).cancelled.push({ replica, time: iso(time), released: record.released === true });
        return;
      case LogEvent.OrderCancelRequested:
        if (orderId !== undefined) this.trail(orderId).cancelRequestedAt ??= time ?? Number.NEGATIVE_INFINITY;
        return;
      case LogEvent.OrderLeaseLost:
        this.leaseLosses.push({ orderId, replica, stage: text(record.stage) ?? UNKNOWN, time: iso(time) });
        return;
      case LogEvent.OrderSkipped:
        increment(this.skipped, text(record.reason) ?? UNKNOWN);
        return;
      case LogEvent.MessageInvalid:
        this.invalid++;
        increment(this.invalidByReplica, replica);
        return;
    }
  }

  private trail(orderId: string): OrderTrail {
    let trail = this.orders.get(orderId);
    if (!trail) {
      trail = { acceptedAt: undefined, accepted: false, processed: [], failed: 0, cancelled: [], cancelRequestedAt: undefined };
      this.orders.set(orderId, trail);
    }
    return trail;
  }

  /** The findings so far (the fold can go on taking records afterwards). */
  report(): AuditReport {
    const cutoff = this.last === undefined ? undefined : this.last - this.graceSeconds * 1000;
    let accepted = 0;
    let processedOrders = 0;
    const duplicates: DuplicateProcessing[] = [];
    const lost: Array<{ orderId: string; acceptedAt: number | undefined }> = [];
    const inFlight: string[] = [];
    const failed: string[] = [];
    const conflicting: AuditReport['conflicting'] = [];
    const processedWithoutAccepted: string[] = [];
    const cancelled = { orders: 0, released: 0, beforeProcessing: 0 };
    const cancelledTwice: DuplicateCancellation[] = [];
    const unreleased: Array<{ orderId: string; requestedAt: number | undefined }> = [];
    const judged = (at: number | undefined) => !(at !== undefined && cutoff !== undefined && at > cutoff);
    for (const [orderId, trail] of this.orders) {
      const processed = trail.processed.length;
      if (trail.accepted) accepted++;
      if (processed > 0) processedOrders++;
      if (processed > 1) {
        const processings = [...trail.processed].sort((a, b) => (a.time ?? '').localeCompare(b.time ?? ''));
        duplicates.push({ orderId, count: processed, replicas: processings.map((p) => p.replica), processings });
      }
      const cancellations = trail.cancelled.length;
      if (cancellations > 0) {
        cancelled.orders++;
        if (trail.cancelled.some((c) => c.released)) cancelled.released++;
        else cancelled.beforeProcessing++;
      }
      if (cancellations > 1) {
        const sorted = [...trail.cancelled].sort((a, b) => (a.time ?? '').localeCompare(b.time ?? ''));
        cancelledTwice.push({ orderId, count: cancellations, cancellations: sorted });
      }
      if (trail.cancelRequestedAt !== undefined && cancellations === 0) {
        if (judged(trail.cancelRequestedAt)) unreleased.push({ orderId, requestedAt: trail.cancelRequestedAt });
      }
      const cancelledUnprocessed = trail.cancelled.some((c) => !c.released);
      if (trail.failed > 0 && processed === 0) failed.push(orderId);
      if ((trail.failed > 0 && processed + trail.failed > 1) || (cancelledUnprocessed && processed > 0)) {
        conflicting.push({ orderId, processed, failed: trail.failed });
      }
      if (processed > 0 && !trail.accepted) processedWithoutAccepted.push(orderId);
      if (trail.accepted && processed === 0 && trail.failed === 0 && cancellations === 0) {
        if (judged(trail.acceptedAt)) lost.push({ orderId, acceptedAt: trail.acceptedAt });
        else inFlight.push(orderId);
      }
    }
    duplicates.sort((a, b) => (a.processings[0].time ?? '').localeCompare(b.processings[0].time ?? ''));
    lost.sort((a, b) => (a.acceptedAt ?? 0) - (b.acceptedAt ?? 0));

    const violations: string[] = [];
    if (duplicates.length) {
      const shown = duplicates.slice(0, 5).map((d) => `${d.orderId} ×${d.count} by ${d.replicas.join('+')}`);
      violations.push(`${duplicates.length} order(s) processed more than once: ${shown.join('; ')}${duplicates.length > 5 ? '; …' : ''}`);
    }
    if (lost.length) {
      violations.push(`${lost.length} order(s) accepted but never processed (nor FAILED): ${sample(lost.map((l) => l.orderId))}`);
    }
    if (conflicting.length) {
      violations.push(
        `${conflicting.length} order(s) with conflicting terminal lines (FAILED or cancelled before processing, and processed): ${sample(conflicting.map((c) => c.orderId))}`,
      );
    }
    if (cancelledTwice.length) {
      const shown = cancelledTwice.slice(0, 5).map((d) => `${d.orderId} ×${d.count} by ${d.cancellations.map((c) => c.replica).join('+')}`);
      violations.push(
        `${cancelledTwice.length} order(s) cancelled (released) more than once: ${shown.join('; ')}${cancelledTwice.length > 5 ? '; …' : ''}`,
      );
    }
    if (unreleased.length) {
      violations.push(
        `${unreleased.length} cancellation(s) requested but never released (no order.cancelled): ${sample(unreleased.map((u) => u.orderId))}`,
      );
    }
    const byStage: Record<string, number> = {};
    for (const loss of this.leaseLosses) increment(byStage, loss.stage);
    return {
      input: { records: this.records, events: this.events, first: iso(this.first), last: iso(this.last) },
      accepted,
      processed: { orders: processedOrders, lines: this.processedLines, byOutcome: { ...this.byOutcome } },
      duplicates,
      cancelled,
      cancelledTwice,
      unreleased: unreleased.map((u) => ({
        orderId: u.orderId,
        requestedAt: iso(u.requestedAt === Number.NEGATIVE_INFINITY ? undefined : u.requestedAt),
      })),
      lost: lost.map((l) => ({ orderId: l.orderId, acceptedAt: iso(l.acceptedAt) })),
      inFlight,
      failed,
      conflicting,
      processedWithoutAccepted,
      leaseLost: { total: this.leaseLosses.length, byStage, events: [...this.leaseLosses] },
      skipped: { ...this.skipped },
      processedPerReplica: { ...this.processedPerReplica },
      invalidMessages: { total: this.invalid, byReplica: { ...this.invalidByReplica } },
      graceSeconds: this.graceSeconds,
      lossChecked: accepted > 0,
      violations,
      ok: violations.length === 0,
    };
  }
}
