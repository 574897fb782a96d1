import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { v1 } from '@datadog/datadog-api-client';
import { LogEvent, Metric } from '@eo/contract';
import { repoRoot } from '@eo/local';

/**
 * The shipped dashboard and monitors must (1) be what Datadog's API accepts, as far as the
 * OpenAPI-generated models of @datadog/datadog-api-client can tell offline, and (2) reference only
 * the metric names, log events, facets and tags the services emit, so a rename breaks CI.
 */
const DIR = join(repoRoot(), 'datadog');
const METRICS = new Set<string>(Object.values(Metric));
const EVENTS = new Set<string>(Object.values(LogEvent));
/** Log facets the README asks users to add, and attributes every line has. */
const FACETS = new Set(['@event', '@orderId', '@replica', '@outcome', '@reason', '@stage', '@attempt', '@durationMs']);
/** Tags on the DogStatsD metrics (unified service tags, replica, and the per-metric ones). */
const TAGS = new Set(['service', 'env', 'version', 'replica', 'outcome', 'reason', 'stage']);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function readJson(path: string): { [key: string]: Json } {
  return JSON.parse(readFileSync(path, 'utf8')) as { [key: string]: Json };
}

const dashboard = readJson(join(DIR, 'dashboard.json'));
const monitors = readdirSync(join(DIR, 'monitors'))
  .filter((name) => name.endsWith('.json'))
  .map((name) => {
    const monitor = readJson(join(DIR, 'monitors', name));
    return { name, monitor, query: typeof monitor.query === 'string' ? monitor.query : '' };
  });

/** Every string value under a key named `key`, anywhere in `value`. */
function valuesOf(value: Json, key: string, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) valuesOf(item, key, out);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === key && typeof v === 'string') out.push(v);
      else if (k === key && Array.isArray(v)) out.push(...v.filter((x): x is string => typeof x === 'string'));
      valuesOf(v, key, out);
    }
  }
  return out;
}

/** Paths in a deserialized model where the client found something it does not know. */
function unknownParts(value: unknown, path = '$', out: string[] = []): string[] {
  if (value === null || typeof value !== 'object' || value instanceof Date) return out;
  if (value.constructor?.name === 'UnparsedObject') {
    out.push(`${path}: ${JSON.stringify((value as { _data: unknown })._data).slice(0, 200)}`);
    return out;
  }
  for (const [key, child] of Object.entries(value)) {
    if (key === 'additionalProperties' && child !== undefined)
      out.push(`${path}: unknown field(s) ${Object.keys(child as object).join(', ')}`);
    else if (key !== '_unparsed') unknownParts(child, `${path}.${key}`, out);
  }
  return out;
}

const isMetricQuery = (query: string): boolean => /^[a-z0-9]+:[a-z][a-z0-9_.]*\{/.test(query);

function metricQueries(): string[] {
  const fromDashboard = valuesOf(dashboard, 'query').filter(isMetricQuery);
  const fromMonitors = monitors.filter((m) => m.monitor.type === 'query alert').map((m) => m.query);
  return [...fromDashboard, ...fromMonitors];
}

function logQueries(): string[] {
  const searches = valuesOf(dashboard, 'query').filter((q) => !isMetricQuery(q));
  const fromMonitors = monitors
    .filter((m) => m.monitor.type === 'log alert')
    .map((m) => /^logs\("((?:[^"\\]|\\.)*)"\)/.exec(m.query)?.[1] ?? '');
  return [...searches, ...fromMonitors];
}

describe('the Datadog dashboard and monitors', () => {
  it('deserialize as the API client models without an unknown field, type or enum value', () => {
    const model = v1.ObjectSerializer.deserialize(dashboard, 'Dashboard', '') as v1.Dashboard;
    expect(unknownParts(model)).toEqual([]);
    expect(model.widgets.length).toBeGreaterThan(0);
    expect(monitors.map((m) => m.name).sort()).toEqual([
      'backlog-overdue.json',
      'duplicate-processing.json',
      'duplicate-release.json',
      'failed-orders.json',
      'lease-lost-rate.json',
      'unconfirmed-writes.json',
    ]);
    for (const { name, monitor } of monitors) {
      const parsed = v1.ObjectSerializer.deserialize(monitor, 'Monitor', '') as v1.Monitor;
      expect({ name, unknown: unknownParts(parsed) }).toEqual({ name, unknown: [] });
    }
  });

  it('reference only metric names the services emit, and every one of them', () => {
    const used = new Set<string>();
    for (const query of metricQueries()) {
      for (const match of query.matchAll(/(?:^|[\s(:*/+-])(?:sum|max|min|avg|count|p\d+):([a-z0-9_.]+)\{/g)) used.add(match[1]);
    }
    expect([...used].filter((name) => !METRICS.has(name))).toEqual([]);
    expect([...METRICS].filter((name) => !used.has(name))).toEqual([]);
  });

  it('group and filter metrics only by tags the metrics carry', () => {
    for (const query of metricQueries()) {
      for (const [, list] of query.matchAll(/by \{([^}]*)\}/g)) {
        for (const tag of list.split(',')) expect({ query, tag: tag.trim(), known: TAGS.has(tag.trim()) }).toMatchObject({ known: true });
      }
      for (const [, scope] of query.matchAll(/\{([^}]*)\}/g)) {
        for (const part of scope.split(',').map((s) => s.trim())) {
          const tag = part.startsWith('$') ? part.slice(1) : part === '*' ? 'env' : part.split(':')[0];
          expect({ query, part, known: TAGS.has(tag) }).toMatchObject({ known: true });
        }
      }
    }
  });

  it('search logs only for events the services log, and use only the documented facets', () => {
    const queries = logQueries();
    expect(queries.length).toBeGreaterThanOrEqual(4);
    for (const query of queries) {
      const events = [...query.matchAll(/@event:(\([^)]*\)|\S+)/g)].flatMap(([, v]) => v.replace(/[()]/g, '').split(/\s+OR\s+/));
      expect(events.length).toBeGreaterThan(0);
      expect(events.filter((e) => !EVENTS.has(e))).toEqual([]);
    }
    const facets = [
      ...valuesOf(dashboard, 'facet'),
      ...valuesOf(dashboard, 'columns'),
      ...monitors.flatMap((m) => [...m.query.matchAll(/\.by\("([^"]+)"\)/g)].map(([, f]) => f)),
    ].filter((f) => f.startsWith('@'));
    expect(facets.filter((f) => !FACETS.has(f))).toEqual([]);
  });

  it('use only the template variables the dashboard defines', () => {
    const defined = new Set(valuesOf(dashboard.template_variables, 'name'));
    const used = new Set([...JSON.stringify(dashboard.widgets).matchAll(/\$([a-z_]+)/g)].map(([, name]) => name));
    expect([...used].filter((name) => !defined.has(name))).toEqual([]);
  });

  it('alert on duplicates with a log monitor grouped by @orderId above one line, as one simple alert', () => {
    const duplicate = monitors.find((m) => m.name === 'duplicate-processing.json')!.monitor;
    expect(duplicate.type).toBe('log alert');
    expect(duplicate.query).toMatch(
      /^logs\("service:inventory @event:order\.processed"\)\.index\("\*"\)\.rollup\("count"\)\.by\("@orderId"\)\.last\("\d+[mhd]"\) > 1$/,
    );
    expect(duplicate.options).toMatchObject({ thresholds: { critical: 1 }, notify_by: ['*'] });
  });

  it('alert on a release logged twice with a log monitor grouped by @orderId above one order.cancelled line', () => {
    const release = monitors.find((m) => m.name === 'duplicate-release.json')!.monitor;
    expect(release.type).toBe('log alert');
    expect(release.query).toMatch(
      /^logs\("@event:order\.cancelled"\)\.index\("\*"\)\.rollup\("count"\)\.by\("@orderId"\)\.last\("\d+[mhd]"\) > 1$/,
    );
    expect(release.options).toMatchObject({ thresholds: { critical: 1 }, notify_by: ['*'] });
  });
});
