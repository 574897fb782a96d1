import type { client, v2 } from '@datadog/datadog-api-client';
import { AUDITED_EVENTS, AUDITED_SERVICES } from './audit-fold';
import type { LogRecord } from './log-lines';

/** A missing or invalid Datadog setting (exit 2), naming the variable or option. */
export class DatadogConfigError extends Error {}

/** Where and as whom to search. */
export interface DatadogSettings {
  apiKey: string;
  appKey: string;
  /** `datadoghq.com`, `datadoghq.eu`, `us5.datadoghq.com`, … (unused when `apiUrl` is set). */
  site: string | undefined;
  /** Replaces `https://api.<site>` entirely: a local fake in tests, or a proxy. */
  apiUrl: string | undefined;
}

/**
 * Reads `DD_API_KEY`, `DD_APP_KEY`, `DD_SITE` and `DD_API_BASE_URL` (or `apiUrl`, from `--api-url`).
 * `DD_SITE` may be given as `app.datadoghq.eu` or a URL; it is reduced to the site.
 */
export function datadogSettings(env: NodeJS.ProcessEnv, apiUrl?: string): DatadogSettings {
  const need = (name: string, what: string): string => {
    const value = env[name]?.trim();
    if (!value) throw new DatadogConfigError(`${name} is not set: ${what}`);
    return value;
  };
  const apiKey = need('DD_API_KEY', 'an API key of your Datadog organization (Organization Settings → API Keys)');
  const appKey = need('DD_APP_KEY', 'an application key with the logs_read_data permission (Organization Settings → Application Keys)');
  const url = apiUrl?.trim() || env.DD_API_BASE_URL?.trim() || undefined;
  if (url !== undefined) {
    try {
      const parsed = new URL(url);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http(s)');
    } catch {
      throw new DatadogConfigError(`the API base URL must be an http(s) URL, got "${url}"`);
    }
    return { apiKey, appKey, site: undefined, apiUrl: url.replace(/\/+$/, '') };
  }
  const site = need('DD_SITE', 'the Datadog site of your organization, e.g. datadoghq.com, datadoghq.eu, us5.datadoghq.com')
    .replace(/^https?:\/\//, '')
    .replace(/\/.*$/, '')
    .replace(/^(app|api)\./, '');
  return { apiKey, appKey, site, apiUrl: undefined };
}

/** What to search. */
export interface DatadogSearch {
  /** Datadog time: `now-15m`, an ISO date, or epoch milliseconds. */
  from: string;
  to: string;
  env?: string;
  /** Appended to the query (Datadog search syntax). */
  extraQuery?: string;
  /** Stop after this many events (a warning says the report is partial). */
  maxEvents: number;
  /** Events per request (the API's maximum is 1,000). */
  pageSize?: number;
}

/** How the search went. */
export interface DatadogSearchResult {
  events: number;
  pages: number;
  /** True when `maxEvents` stopped the paging before the last page. */
  truncated: boolean;
  /** Warnings the API returned (e.g. a partial result on a timeout). */
  warnings: string[];
}

/** The Logs Search query for the audited events of both services, optionally in one `env`. */
export function auditQuery(env?: string, extraQuery?: string): string {
  const parts = [`service:(${AUDITED_SERVICES.join(' OR ')})`, `@event:(${AUDITED_EVENTS.join(' OR ')})`];
  if (env) parts.push(`env:${env}`);
  if (extraQuery?.trim()) parts.push(`(${extraQuery.trim()})`);
  return parts.join(' ');
}

function tagValue(tags: readonly string[] | undefined, key: string): string | undefined {
  const prefix = `${key}:`;
  return tags?.find((tag) => tag.startsWith(prefix))?.slice(prefix.length);
}

/**
 * Maps a Logs Search result back to the JSON line the service wrote: Datadog parses the line into
 * `attributes.attributes` (custom fields: `event`, `orderId`, `replica`, …) and lifts `service`,
 * the time, the status and `msg` into reserved attributes; `env`/`version` may only be tags.
 */
export function recordFromDatadog(log: v2.Log): LogRecord {
  const attributes: Partial<v2.LogAttributes> = log.attributes ?? {};
  const custom: LogRecord = { ...(attributes.attributes ?? {}) };
  const record: LogRecord = { ...custom };
  const timestamp = attributes.timestamp;
  record.time = timestamp instanceof Date && !Number.isNaN(timestamp.getTime()) ? timestamp.toISOString() : custom.time;
  record.service = attributes.service ?? custom.service ?? tagValue(attributes.tags, 'service');
  record.env = custom.env ?? tagValue(attributes.tags, 'env');
  record.version = custom.version ?? tagValue(attributes.tags, 'version');
  record.replica = custom.replica ?? tagValue(attributes.tags, 'pod_name');
  if (attributes.message !== undefined && record.msg === undefined) record.msg = attributes.message;
  if (attributes.status !== undefined && record.level === undefined) record.level = attributes.status;
  return record;
}

function configuration(dd: typeof import('@datadog/datadog-api-client'), settings: DatadogSettings): client.Configuration {
  const { client } = dd;
  const conf = client.createConfiguration({
    authMethods: { apiKeyAuth: settings.apiKey, appKeyAuth: settings.appKey },
    // 429 (the search API is rate limited) and 5xx: retried with the server's reset time or backoff.
    enableRetry: true,
    maxRetries: 5,
    ...(settings.apiUrl ? { baseServer: new client.BaseServerConfiguration(settings.apiUrl, {}) } : {}),
  });
  if (!settings.apiUrl && settings.site) conf.setServerVariables({ site: settings.site });
  return conf;
}

/**
 * Pages through `POST /api/v2/logs/events/search` (oldest first), following `meta.page.after` until
 * the last page or `maxEvents`, and hands every log, mapped by {@link recordFromDatadog}, to `sink`.
 */
export async function searchDatadog(
  settings: DatadogSettings,
  search: DatadogSearch,
  sink: (record: LogRecord) => void,
  onPage?: (pages: number, events: number) => void,
): Promise<DatadogSearchResult> {
  // Loaded here: the client takes a second to load, which reading files should not pay.
  const dd = await import('@datadog/datadog-api-client');
  // Its logger prints every failed request to the console; the caller reports the error once.
  if (!process.env.DEBUG) (dd.logger as { setLevel(level: string): void }).setLevel('silent');
  const api = new dd.v2.LogsApi(configuration(dd, settings));
  const pageSize = Math.min(search.pageSize ?? 1000, 1000);
  const result: DatadogSearchResult = { events: 0, pages: 0, truncated: false, warnings: [] };
  let cursor: string | undefined;
  for (;;) {
    const response = await api.listLogs({
      body: {
        filter: { query: auditQuery(search.env, search.extraQuery), from: search.from, to: search.to, indexes: ['*'] },
        sort: 'timestamp',
        page: { limit: Math.min(pageSize, search.maxEvents - result.events), ...(cursor ? { cursor } : {}) },
      },
    });
    result.pages++;
    if (response.meta?.status === 'timeout') result.warnings.push(`page ${result.pages}: the search timed out and returned a partial page`);
    for (const warning of response.meta?.warnings ?? []) {
      result.warnings.push([warning.code, warning.title, warning.detail].filter(Boolean).join(': '));
    }
    const data = response.data ?? [];
    for (const log of data) sink(recordFromDatadog(log));
    result.events += data.length;
    onPage?.(result.pages, result.events);
    cursor = response.meta?.page?.after;
    if (!cursor || data.length === 0) return result;
    if (result.events >= search.maxEvents) {
      result.truncated = true;
      return result;
    }
  }
}
