import { AuditFold, type AuditReport } from '@eo/tools/audit/index';
import {
  accepted,
  cancelled,
  cancelRequested,
  failed,
  healthyRun,
  invalidMessage,
  leaseLost,
  processed,
  skipped,
  started,
  type Fields,
} from './log-builders';

function audit(records: readonly Fields[], options: ConstructorParameters<typeof AuditFold>[0] = {}): AuditReport {
  const fold = new AuditFold(options);
  for (const record of records) fold.add(record);
  return fold.report();
}

describe('the audit fold', () => {
  it('passes a healthy run and counts accepted, processed by outcome, per replica and skipped', () => {
    const report = audit(healthyRun(120));
    expect(report.ok).toBe(true);
    expect(report.accepted).toBe(120);
    expect(report.processed).toEqual({ orders: 120, lines: 120, byOutcome: { reserved: 90, rejected: 30 } });
    expect(report.processedPerReplica).toEqual({ 'inventory-0': 40, 'inventory-1': 40, 'inventory-2': 40 });
    expect(report.skipped).toEqual({ locked: 240 });
    expect(report.duplicates).toEqual([]);
    expect(report.lost).toEqual([]);
    expect(report.input).toMatchObject({ records: 480, events: 480, first: '2025-03-01T12:00:00.000Z' });
  });

  it('reports an order processed twice with the replicas and times of both lines', () => {
    const report = audit([...healthyRun(10), processed('ord-3', 'inventory-2', 50, { attempt: 2, replayed: true })]);
    expect(report.ok).toBe(false);
    expect(report.duplicates).toEqual([
      {
        orderId: 'ord-3',
        count: 2,
        replicas: ['inventory-0', 'inventory-2'],
        processings: [
          { replica: 'inventory-0', time: '2025-03-01T12:00:03.020Z', outcome: 'reserved', attempt: 1 },
          { replica: 'inventory-2', time: '2025-03-01T12:00:50.000Z', outcome: 'reserved', attempt: 2, replayed: true },
        ],
      },
    ]);
    expect(report.violations).toEqual(['1 order(s) processed more than once: ord-3 ×2 by inventory-0+inventory-2']);
  });

  it('reports an accepted order that was never processed, but not one that ended FAILED', () => {
    const report = audit([...healthyRun(100), accepted('lost-1', 5), accepted('dead-1', 6), failed('dead-1', 'inventory-1', 20)]);
    expect(report.lost).toEqual([{ orderId: 'lost-1', acceptedAt: '2025-03-01T12:00:05.000Z' }]);
    expect(report.failed).toEqual(['dead-1']);
    expect(report.violations).toHaveLength(1);
  });

  it('leaves orders accepted within the grace window of the newest line unjudged', () => {
    // The newest line is at 99.02 s; an order accepted at 80 s is in flight with 30 s of grace, lost with 10 s.
    const records = [...healthyRun(100), accepted('late-1', 80)];
    expect(audit(records)).toMatchObject({ ok: true, lost: [], inFlight: ['late-1'] });
    expect(audit(records, { graceSeconds: 10 })).toMatchObject({ ok: false, lost: [{ orderId: 'late-1' }], inFlight: [] });
  });

  it('counts processed lines without an accepted line as informational', () => {
    const report = audit(healthyRun(5).filter((r) => r.event !== 'order.accepted'));
    expect(report).toMatchObject({ ok: true, accepted: 0, lossChecked: false });
    expect(report.processedWithoutAccepted).toHaveLength(5);
  });

  it('flags an order both FAILED and processed', () => {
    const report = audit([accepted('x', 0), failed('x', 'inventory-0', 1), processed('x', 'inventory-1', 2)]);
    expect(report.conflicting).toEqual([{ orderId: 'x', processed: 1, failed: 1 }]);
    expect(report.ok).toBe(false);
  });

  it('counts lease losses by stage, invalid messages per replica, and ignores other events', () => {
    const report = audit([
      ...healthyRun(3),
      leaseLost('ord-1', 'inventory-0', 1.5, 'work'),
      leaseLost('ord-2', 'inventory-1', 2.5, 'commit'),
      leaseLost('ord-2', 'inventory-1', 2.6, 'commit'),
      invalidMessage('inventory-2', 3),
      invalidMessage('inventory-2', 3.1),
      skipped('ord-0', 'inventory-1', 9, 'already_processed'),
      started('inventory', 'inventory-0', 0),
    ]);
    expect(report.leaseLost.total).toBe(3);
    expect(report.leaseLost.byStage).toEqual({ work: 1, commit: 2 });
    expect(report.leaseLost.events[0]).toEqual({
      orderId: 'ord-1',
      replica: 'inventory-0',
      stage: 'work',
      time: '2025-03-01T12:00:01.500Z',
    });
    expect(report.invalidMessages).toEqual({ total: 2, byReplica: { 'inventory-2': 2 } });
    expect(report.skipped).toEqual({ locked: 6, already_processed: 1 });
    expect(report.input.records - report.input.events).toBe(1);
    expect(report.ok).toBe(true);
  });

  it('keeps only the lines of one env when asked, and takes the replica from the prefix when a line has none', () => {
    const fold = new AuditFold({ env: 'prod' });
    fold.add({ ...processed('p-1', 'inventory-0', 1), env: 'prod', replica: undefined }, 'inventory-7d9f');
    fold.add({ ...processed('p-1', 'inventory-1', 2), env: 'staging' });
    const report = fold.report();
    expect(report.duplicates).toEqual([]);
    expect(report.processedPerReplica).toEqual({ 'inventory-7d9f': 1 });
  });

  describe('cancellations', () => {
    /** 20 healthy orders; ord-2 released by a replica after its request; cancelled-1 cancelled before processing. */
    const cancelledRun = (): Fields[] => [
      ...healthyRun(20),
      cancelRequested('ord-2', 10),
      cancelled('ord-2', 'inventory-1', 10.5, true),
      accepted('cancelled-1', 11),
      cancelled('cancelled-1', 'order-0', 11.2, false),
    ];

    it('counts cancellations before processing and releases, and does not call a cancelled order lost', () => {
      const report = audit(cancelledRun());
      expect(report.violations).toEqual([]);
      expect(report.cancelled).toEqual({ orders: 2, released: 1, beforeProcessing: 1 });
      expect(report.lost).toEqual([]);
      expect(report.cancelledTwice).toEqual([]);
    });

    it('flags a release logged twice, with both replicas and times', () => {
      const report = audit([...cancelledRun(), cancelled('ord-2', 'inventory-2', 12, true)]);
      expect(report.cancelledTwice).toEqual([
        {
          orderId: 'ord-2',
          count: 2,
          cancellations: [
            { replica: 'inventory-1', time: '2025-03-01T12:00:10.500Z', released: true },
            { replica: 'inventory-2', time: '2025-03-01T12:00:12.000Z', released: true },
          ],
        },
      ]);
      expect(report.violations).toEqual(['1 order(s) cancelled (released) more than once: ord-2 ×2 by inventory-1+inventory-2']);
    });

    it('flags a requested cancellation without its order.cancelled line once past the grace window', () => {
      const records = [...healthyRun(100), cancelRequested('ord-5', 20)];
      expect(audit(records).unreleased).toEqual([{ orderId: 'ord-5', requestedAt: '2025-03-01T12:00:20.000Z' }]);
      expect(audit(records).violations).toEqual(['1 cancellation(s) requested but never released (no order.cancelled): ord-5']);
      expect(audit([...healthyRun(100), cancelRequested('ord-95', 95)]).ok).toBe(true);
    });

    it('flags an order cancelled before processing that a replica processed anyway', () => {
      const report = audit([accepted('x', 0), cancelled('x', 'order-0', 1, false), processed('x', 'inventory-1', 2)]);
      expect(report.conflicting).toEqual([{ orderId: 'x', processed: 1, failed: 0 }]);
      expect(report.ok).toBe(false);
    });
  });
});
