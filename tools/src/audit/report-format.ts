import type { AuditReport } from './audit-fold';

/** How many ids of a list the text report shows (`--json` has them all). */
const SHOWN = 20;

function counts(record: Record<string, number>): string {
  const entries = Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
  return entries.length ? entries.map(([key, n]) => `${key} ${n}`).join(', ') : '-';
}

/** The report as text: the figures, the offending orders, and a verdict on the last line. */
export function formatAuditReport(report: AuditReport, source: string): string {
  const out: string[] = [];
  const range = report.input.first ? `, ${report.input.first} → ${report.input.last}` : '';
  out.push(`Audit of ${source}`);
  out.push(`${report.input.records} JSON record(s), ${report.input.events} order event(s)${range}`);
  out.push('');
  const row = (label: string, value: string | number): void => {
    out.push(`${label.padEnd(28)} ${value}`);
  };
  row('orders accepted', report.lossChecked ? report.accepted : '0 (no order.accepted line: the order service logs are not in the input)');
  row('orders processed', `${report.processed.orders} (${counts(report.processed.byOutcome)})`);
  row('processed more than once', report.duplicates.length);
  row(
    'orders cancelled',
    `${report.cancelled.orders} (${report.cancelled.beforeProcessing} before processing, ${report.cancelled.released} released by a replica)`,
  );
  row('released more than once', report.cancelledTwice.length);
  row('cancel requested, unreleased', report.unreleased.length);
  const inFlight = report.inFlight.length ? ` (+${report.inFlight.length} accepted in the last ${report.graceSeconds} s, not judged)` : '';
  row('accepted, never processed', report.lossChecked ? `${report.lost.length}${inFlight}` : 'n/a (no order.accepted line)');
  row('failed (FAILED, not lost)', report.failed.length);
  row(
    'processed, no accepted line',
    `${report.processedWithoutAccepted.length}${report.processedWithoutAccepted.length ? ' (informational)' : ''}`,
  );
  row('lease lost', `${report.leaseLost.total}${report.leaseLost.total ? ` (${counts(report.leaseLost.byStage)})` : ''}`);
  row('skipped', counts(report.skipped));
  row('invalid messages', report.invalidMessages.total);

  const replicas = Object.entries(report.processedPerReplica).sort(([a], [b]) => a.localeCompare(b));
  if (replicas.length) {
    out.push('', 'order.processed per replica:');
    const widest = Math.max(...replicas.map(([, n]) => n), 1);
    const width = Math.max(...replicas.map(([name]) => name.length), 8);
    for (const [replica, n] of replicas) {
      out.push(`  ${replica.padEnd(width)} ${String(n).padStart(7)}  ${'#'.repeat(Math.round((n / widest) * 40))}`);
    }
  }

  if (report.duplicates.length) {
    out.push('', 'Processed more than once:');
    for (const dup of report.duplicates.slice(0, SHOWN)) {
      const lines = dup.processings.map(
        (p) =>
          `${p.replica} at ${p.time ?? '?'} (${p.outcome}${p.attempt !== undefined ? `, attempt ${p.attempt}` : ''}${p.replayed ? ', replayed' : ''})`,
      );
      out.push(`  ${dup.orderId} ×${dup.count}: ${lines.join('; ')}`);
    }
    if (report.duplicates.length > SHOWN) out.push(`  … ${report.duplicates.length - SHOWN} more (--json lists all)`);
  }
  if (report.cancelledTwice.length) {
    out.push('', 'Cancelled (released) more than once:');
    for (const dup of report.cancelledTwice.slice(0, SHOWN)) {
      const lines = dup.cancellations.map((c) => `${c.replica} at ${c.time ?? '?'} (${c.released ? 'released' : 'before processing'})`);
      out.push(`  ${dup.orderId} ×${dup.count}: ${lines.join('; ')}`);
    }
    if (report.cancelledTwice.length > SHOWN) out.push(`  … ${report.cancelledTwice.length - SHOWN} more (--json lists all)`);
  }
  if (report.unreleased.length) {
    out.push('', 'Cancellation requested, never released:');
    for (const u of report.unreleased.slice(0, SHOWN)) out.push(`  ${u.orderId} requested at ${u.requestedAt ?? '?'}`);
    if (report.unreleased.length > SHOWN) out.push(`  … ${report.unreleased.length - SHOWN} more (--json lists all)`);
  }
  if (report.lost.length) {
    out.push('', 'Accepted, never processed:');
    for (const lost of report.lost.slice(0, SHOWN)) out.push(`  ${lost.orderId} accepted at ${lost.acceptedAt ?? '?'}`);
    if (report.lost.length > SHOWN) out.push(`  … ${report.lost.length - SHOWN} more (--json lists all)`);
  }
  if (report.conflicting.length) {
    out.push('', 'Conflicting terminal lines:');
    for (const c of report.conflicting.slice(0, SHOWN))
      out.push(
        `  ${c.orderId}: ${c.failed}× order.failed, ${c.processed}× order.processed${c.failed ? '' : ', cancelled before processing'}`,
      );
    if (report.conflicting.length > SHOWN) out.push(`  … ${report.conflicting.length - SHOWN} more (--json lists all)`);
  }

  out.push('');
  if (report.ok) {
    out.push(
      report.lossChecked
        ? 'OK: at most one order.processed and one order.cancelled per order, every accepted order processed, cancelled or FAILED, every requested release done'
        : 'OK: at most one order.processed and one order.cancelled per order (losses not judged: no order.accepted line)',
    );
  } else {
    out.push(`VIOLATIONS:\n${report.violations.map((v) => `  - ${v}`).join('\n')}`);
  }
  return out.join('\n');
}
