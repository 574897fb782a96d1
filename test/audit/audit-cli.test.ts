import type { AuditReport } from '@eo/tools/audit/index';
import { accepted, failed, healthyRun, leaseLost, LogDir, logText, processed, type Fields } from './log-builders';
import { runAudit } from './run-audit';

let dir: LogDir;

beforeEach(() => {
  dir = new LogDir();
});

afterEach(() => dir.cleanup());

/** The order service's lines and each replica's lines, as separate captures. */
function byProcess(records: readonly Fields[]): Map<string, Fields[]> {
  const out = new Map<string, Fields[]>();
  for (const record of records) {
    const name = String(record.replica);
    out.set(name, [...(out.get(name) ?? []), record]);
  }
  return out;
}

function parseJson(stdout: string): AuditReport & { source: Record<string, unknown> } {
  return JSON.parse(stdout) as AuditReport & { source: Record<string, unknown> };
}

describe('npm run audit over recorded log files', () => {
  it('exits 0 on a healthy run captured from npm start, garbage lines and all', async () => {
    dir.write('run.log', logText(healthyRun(300), 'npm-start'));
    const run = await runAudit([dir.path + '/run.log']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/orders accepted\s+300\n/);
    expect(run.stdout).toMatch(/orders processed\s+300 \(rejected 75, reserved 225\)/);
    expect(run.stdout).toMatch(/not JSON\)/);
    expect(run.stdout).toMatch(/^OK: /m);
  });

  it('exits 1 and names the duplicate with both replicas, across per-pod kubectl captures matched by a glob', async () => {
    const records = [...healthyRun(200), processed('ord-17', 'inventory-1', 40, { replayed: true })];
    for (const [name, lines] of byProcess(records)) dir.write(`pods/${name}.log`, logText(lines, 'kubectl'));
    const run = await runAudit(['pods/*.log'], { cwd: dir.path });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/processed more than once\s+1\n/);
    expect(run.stdout).toContain('ord-17 ×2: inventory-2 at 2025-03-01T12:00:17.020Z (reserved, attempt 1); inventory-1 at');
    expect(run.stdout).toMatch(/VIOLATIONS:\n {2}- 1 order\(s\) processed more than once: ord-17 ×2 by inventory-2\+inventory-1/);
  });

  it('exits 1 on an accepted order never processed, and lists it in --json', async () => {
    const records = [...healthyRun(100).filter((r) => !(r.orderId === 'ord-42' && r.event === 'order.processed')), accepted('x-1', 1)];
    dir.write('a.log', logText(records.slice(0, 150)));
    dir.write('b.log', logText(records.slice(150)));
    const run = await runAudit(['--json', dir.path]);
    expect(run.code).toBe(1);
    const report = parseJson(run.stdout);
    expect(report.lost.map((l) => l.orderId)).toEqual(['x-1', 'ord-42']);
    expect(report.source).toMatchObject({ kind: 'files', files: [expect.stringMatching(/a\.log$/), expect.stringMatching(/b\.log$/)] });
  });

  it('does not count a FAILED order as lost, nor an order accepted within --grace-seconds of the end', async () => {
    const records = [...healthyRun(100), accepted('dead', 3), failed('dead', 'inventory-0', 9), accepted('late', 90)];
    dir.write('run.log', logText(records));
    const lenient = await runAudit(['--json', 'run.log'], { cwd: dir.path });
    expect(lenient.code).toBe(0);
    expect(parseJson(lenient.stdout)).toMatchObject({ failed: ['dead'], inFlight: ['late'], lost: [] });
    const strict = await runAudit(['--grace-seconds', '5', 'run.log'], { cwd: dir.path });
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain('late accepted at 2025-03-01T12:01:30.000Z');
  });

  it('reads stdin when no file is given (kubectl logs -l app=inventory --prefix | npm run audit)', async () => {
    const inventoryOnly = [...healthyRun(50), leaseLost('ord-3', 'inventory-1', 3.5, 'commit')].filter((r) => r.service === 'inventory');
    const run = await runAudit([], { stdin: logText(inventoryOnly, 'kubectl') });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Audit of stdin \(\d+ line\(s\), \d+ not JSON\)/);
    expect(run.stdout).toMatch(/lease lost\s+1 \(commit 1\)/);
    expect(run.stdout).toMatch(/processed, no accepted line\s+50 \(informational\)/);
    expect(run.stdout).toContain('losses not judged');
  });

  it('keeps only one env with --env', async () => {
    const records = [...healthyRun(10), { ...processed('ord-1', 'inventory-2', 30), env: 'other' }];
    const run = await runAudit(['--env', 'test', '--json'], { stdin: logText(records) });
    expect(run.code).toBe(0);
    expect(parseJson(run.stdout).duplicates).toEqual([]);
  });

  it('exits 2 on usage errors: an unknown option, a bad number, a missing file, Datadog options without --datadog', async () => {
    for (const args of [
      ['--nope'],
      ['--grace-seconds', 'abc'],
      [`${dir.path}/missing.log`],
      [`${dir.path}/*.none`],
      ['--from', 'now-1h'],
    ]) {
      const run = await runAudit(args, { stdin: '' });
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toMatch(/^audit: /);
      expect(run.stdout).toBe('');
    }
  });

  it('warns when the input holds no order event at all', async () => {
    const run = await runAudit([], { stdin: 'nothing here\n{"msg":"hello"}\n' });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('no order event in the input');
  });
});
