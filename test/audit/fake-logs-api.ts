import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Fields } from './log-builders';

/** One request the fake received. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: {
    filter?: { query?: string; from?: string; to?: string; indexes?: string[] };
    sort?: string;
    page?: { limit?: number; cursor?: string };
  };
}

/**
 * A log as `POST /api/v2/logs/events/search` returns it: Datadog's pipeline has parsed the JSON line,
 * moved `time`, `level`, `msg` and `service` into reserved attributes and `env`/`version` into tags
 * (unified service tagging), and kept the rest as custom attributes.
 */
export function datadogLog(fields: Fields, index: number): Record<string, unknown> {
  const { time, level, msg, service, env, version, ...custom } = fields;
  return {
    id: `AwAAAZ${index.toString(36).padStart(8, '0')}`,
    type: 'log',
    attributes: {
      timestamp: time,
      service,
      status: level,
      message: msg,
      host: 'node-1',
      tags: [`env:${String(env)}`, `version:${String(version)}`, `service:${String(service)}`, 'kube_namespace:shop', `source:nodejs`],
      attributes: custom,
    },
  };
}

/**
 * A local stand-in for Datadog's Logs Search API: checks the key headers, records every request and
 * serves `logs` oldest first in pages of the requested `page.limit`, chained by an opaque cursor.
 * `rateLimitFirst` answers the first request 429 (with `x-ratelimit-reset: 0`) to exercise retries.
 */
export class FakeLogsApi {
  readonly requests: RecordedRequest[] = [];
  /** `http://127.0.0.1:<port>`, the base URL to give the client. */
  url = '';
  private served = 0;
  private readonly results: Array<Record<string, unknown>>;
  private readonly server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => this.answer(req, Buffer.concat(chunks).toString('utf8'), res));
  });

  private constructor(private readonly options: { logs: readonly Fields[]; apiKey: string; appKey: string; rateLimitFirst?: boolean }) {
    this.results = options.logs.map(datadogLog);
  }

  static async start(options: { logs: readonly Fields[]; apiKey: string; appKey: string; rateLimitFirst?: boolean }): Promise<FakeLogsApi> {
    const fake = new FakeLogsApi(options);
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  private answer(req: IncomingMessage, text: string, res: ServerResponse): void {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    let body: RecordedRequest['body'];
    try {
      body = JSON.parse(text || '{}') as RecordedRequest['body'];
    } catch {
      return send(400, { errors: ['invalid JSON'] });
    }
    this.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
    if (req.method !== 'POST' || req.url !== '/api/v2/logs/events/search') return send(404, { errors: ['Not found'] });
    if (req.headers['dd-api-key'] !== this.options.apiKey || req.headers['dd-application-key'] !== this.options.appKey) {
      return send(403, { errors: ['Forbidden'] });
    }
    if (this.options.rateLimitFirst && this.served++ === 0)
      return send(429, { errors: ['Too many requests'] }, { 'x-ratelimit-reset': '0' });
    const limit = body.page?.limit ?? 10;
    if (limit > 1000) return send(400, { errors: ['page[limit] must be ≤ 1000'] });
    const offset = body.page?.cursor ? Number(Buffer.from(body.page.cursor, 'base64url').toString('utf8').replace('offset:', '')) : 0;
    const data = this.results.slice(offset, offset + limit);
    const next = offset + limit < this.results.length ? Buffer.from(`offset:${offset + limit}`).toString('base64url') : undefined;
    send(200, {
      data,
      meta: { elapsed: 3, request_id: `req-${this.requests.length}`, status: 'done', ...(next ? { page: { after: next } } : {}) },
      ...(next ? { links: { next: `${this.url}/api/v2/logs/events?page[cursor]=${next}` } } : {}),
    });
  }

  /** The search requests (not the 404s), in order. */
  get searches(): RecordedRequest[] {
    return this.requests.filter((r) => r.path === '/api/v2/logs/events/search');
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
