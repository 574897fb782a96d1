import type { AuditReport } from '@eo/tools/audit/index';
import { FakeLogsApi } from './fake-logs-api';
import { accepted, healthyRun, leaseLost, processed, type Fields } from './log-builders';
import { runAudit } from './run-audit';

const KEYS = { DD_API_KEY: 'test-api-key', DD_APP_KEY: 'test-app-key' };
const AUDIT_QUERY =
  'service:(order OR inventory) @event:(order.accepted OR order.processed OR order.failed OR order.cancelled OR order.cancel_requested OR order.lease_lost OR order.skipped OR message.invalid)';

let api: FakeLogsApi | undefined;

async function startApi(logs: readonly Fields[], rateLimitFirst = false): Promise<FakeLogsApi> {
  api = await FakeLogsApi.start({ logs, apiKey: KEYS.DD_API_KEY, appKey: KEYS.DD_APP_KEY, rateLimitFirst });
  return api;
}

afterEach(async () => {
  await api?.close();
  api = undefined;
});

/** 2,405 events (3 pages of 1,000): 600 healthy orders, one processed twice, one lost, one lease loss. */
function plantedRun(): Fields[] {
  return [
    ...healthyRun(600),
    leaseLost('ord-250', 'inventory-0', 250.5, 'work'),
    processed('ord-250', 'inventory-0', 251, { attempt: 2 }),
    accepted('lost-1', 300),
    accepted('lost-2', 301),
    processed('ord-999', 'inventory-1', 302),
  ].sort((a, b) => String(a.time).localeCompare(String(b.time)));
}

describe('npm run audit -- --datadog against a fake Logs Search API', () => {
  it('pages with the cursor until the last page, sending the keys, query and time range, and finds the planted faults', async () => {
    const fake = await startApi(plantedRun(), true);
    const run = await runAudit(['--datadog', '--from', 'now-15m', '--to', 'now-1m', '--env', 'test', '--api-url', fake.url, '--json'], {
      env: KEYS,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(1);

    // One 429 retried, then three pages of at most 1,000.
    const searches = fake.searches;
    expect(searches).toHaveLength(4);
    for (const request of searches) {
      expect(request.method).toBe('POST');
      expect(request.headers['dd-api-key']).toBe('test-api-key');
      expect(request.headers['dd-application-key']).toBe('test-app-key');
      expect(request.body).toMatchObject({
        filter: { query: `${AUDIT_QUERY} env:test`, from: 'now-15m', to: 'now-1m', indexes: ['*'] },
        sort: 'timestamp',
        page: { limit: 1000 },
      });
    }
    expect(searches.map((r) => r.body.page?.cursor)).toEqual([undefined, undefined, expect.any(String), expect.any(String)]);
    expect(searches[2].body.page?.cursor).not.toBe(searches[3].body.page?.cursor);

    const report = JSON.parse(run.stdout) as AuditReport & { source: Record<string, unknown> };
    expect(report.source).toMatchObject({ kind: 'datadog', pages: 3, truncated: false, query: `${AUDIT_QUERY} env:test` });
    expect(report.input.events).toBe(2405);
    expect(report.accepted).toBe(602);
    expect(report.processed.lines).toBe(602);
    expect(report.duplicates).toEqual([
      expect.objectContaining({ orderId: 'ord-250', count: 2, replicas: ['inventory-1', 'inventory-0'] }),
    ]);
    expect(report.lost.map((l) => l.orderId)).toEqual(['lost-1', 'lost-2']);
    expect(report.processedWithoutAccepted).toEqual(['ord-999']);
    expect(report.leaseLost.byStage).toEqual({ work: 1 });
    // Replicas come back from the custom attributes; env from the tags.
    expect(Object.keys(report.processedPerReplica).sort()).toEqual(['inventory-0', 'inventory-1', 'inventory-2']);
  });

  it('exits 0 on a clean range, adds --query to the search and defaults --to to now (base URL from DD_API_BASE_URL)', async () => {
    const fake = await startApi(healthyRun(20));
    const run = await runAudit(['--datadog', '--from', '2025-03-01T12:00:00Z', '--query', 'kube_namespace:shop'], {
      env: { ...KEYS, DD_API_BASE_URL: fake.url },
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Datadog logs 2025-03-01T12:00:00Z → now (1 page(s))`);
    expect(run.stdout).toMatch(/orders processed\s+20 /);
    expect(fake.searches).toHaveLength(1);
    expect(fake.searches[0].body.filter).toMatchObject({ query: `${AUDIT_QUERY} (kube_namespace:shop)`, to: 'now' });
  });

  it('stops at --max-events with a warning that the report is partial', async () => {
    const fake = await startApi(healthyRun(600));
    const run = await runAudit(['--datadog', '--from', 'now-1h', '--max-events', '1500', '--api-url', fake.url, '--json'], { env: KEYS });
    expect(fake.searches.map((r) => r.body.page?.limit)).toEqual([1000, 500]);
    expect(run.stderr).toContain('stopped at --max-events 1500');
    const report = JSON.parse(run.stdout) as AuditReport & { source: Record<string, unknown> };
    expect(report.source).toMatchObject({ truncated: true, pages: 2 });
    expect(report.input.events).toBe(1500);
  });

  it('names the missing variable and exits 2 without calling the API', async () => {
    const fake = await startApi([]);
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ DD_APP_KEY: 'x', DD_SITE: 'datadoghq.com' }, /^audit: DD_API_KEY is not set/],
      [{ DD_API_KEY: 'x', DD_SITE: 'datadoghq.com' }, /^audit: DD_APP_KEY is not set/],
      [{ DD_API_KEY: 'x', DD_APP_KEY: 'y' }, /^audit: DD_SITE is not set: the Datadog site of your organization/],
    ];
    for (const [env, message] of cases) {
      const run = await runAudit(['--datadog', '--from', 'now-15m'], { env });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(message);
    }
    expect(fake.requests).toEqual([]);
  });

  it('exits 2 with the HTTP status when the API refuses the keys', async () => {
    const fake = await startApi(healthyRun(5));
    const run = await runAudit(['--datadog', '--from', 'now-15m', '--api-url', fake.url], { env: { ...KEYS, DD_APP_KEY: 'wrong' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^audit failed: Datadog answered HTTP 403 \(check DD_API_KEY, DD_APP_KEY/);
    expect(run.stdout).toBe('');
  });

  it('refuses --datadog without --from, or with files', async () => {
    for (const args of [['--datadog'], ['--datadog', '--from', 'now-1h', 'some.log']]) {
      const run = await runAudit(args, { env: KEYS });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^audit: --datadog /);
    }
  });
});
