/**
 * `npm run orders -- <command>`: the admin API from a terminal.
 *
 *   npm run orders -- failed [--limit 50]     the FAILED orders, as a table
 *   npm run orders -- list <STATUS> [--limit 50]
 *   npm run orders -- retry <orderId>         send one FAILED order through again
 *   npm run orders -- retry --all-failed      every FAILED order, 20 at a time, with progress
 *
 * Environment: ADMIN_TOKEN (required: the order service's), ORDER_URL (default: the `npm start`
 * record, else http://127.0.0.1:3001).
 */
import { mapLimit, requestJson } from '@eo/local';
import { flag, int, parseCommandLine, UsageError } from './cli/command-line';
import { readLocalSystem } from './local-system';

interface Summary {
  orderId: string;
  status: string;
  attempts: number;
  reason: string | null;
  updatedAt: string | null;
}

const USAGE = 'usage: npm run orders -- failed [--limit N] | list <STATUS> [--limit N] | retry <orderId> | retry --all-failed';

class CliError extends Error {}

function say(message = ''): void {
  process.stdout.write(`${message}\n`);
}

function settings(): { url: string; headers: Record<string, string> } {
  const token = process.env.ADMIN_TOKEN;
  if (!token) throw new CliError('ADMIN_TOKEN is not set: use the order service’s ADMIN_TOKEN');
  const url = (process.env.ORDER_URL ?? readLocalSystem()?.orderUrl ?? 'http://127.0.0.1:3001').replace(/\/$/, '');
  return { url, headers: { authorization: `Bearer ${token}` } };
}

async function call<T>(method: 'GET' | 'POST', path: string): Promise<{ status: number; body: T }> {
  const { url, headers } = settings();
  const reply = await requestJson<T>(`${url}${path}`, { method, headers, ...(method === 'POST' ? { body: {} } : {}) }).catch(
    (error: unknown) => {
      throw new CliError(`cannot reach the order service at ${url}: ${error instanceof Error ? error.message : String(error)}`);
    },
  );
  if (reply.status === 401 || reply.status === 404) {
    const message = (reply.body as { message?: string } | undefined)?.message;
    if (reply.status === 401 || message?.includes('ADMIN_TOKEN')) throw new CliError(`${reply.status}: ${message ?? 'refused'}`);
  }
  return reply;
}

/** Every order with `status`, page by page. */
async function* everyOrder(status: string, pageSize: number): AsyncGenerator<Summary> {
  let cursor: string | null = null;
  do {
    const query: string = `status=${status}&limit=${pageSize}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page: { status: number; body: { items: Summary[]; nextCursor: string | null; message?: string } } = await call(
      'GET',
      `/orders?${query}`,
    );
    const { status: code, body } = page;
    if (code !== 200) throw new CliError(`GET /orders answered ${code}: ${body.message ?? JSON.stringify(body)}`);
    yield* body.items;
    cursor = body.nextCursor;
  } while (cursor);
}

function table(rows: Summary[]): void {
  const header = ['orderId', 'attempts', 'updatedAt', 'reason'];
  const cells = rows.map((r) => [r.orderId, String(r.attempts), r.updatedAt ?? '-', (r.reason ?? '-').slice(0, 60)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  say(line(header));
  say(line(widths.map((w) => '-'.repeat(w))));
  for (const row of cells) say(line(row));
}

async function list(status: string, limit: number): Promise<void> {
  const rows: Summary[] = [];
  for await (const order of everyOrder(status, Math.min(limit, 1000))) {
    rows.push(order);
    if (rows.length >= limit) break;
  }
  if (rows.length === 0) {
    say(`no ${status} orders`);
    return;
  }
  table(rows);
  say(`\n${rows.length} ${status} order(s)${rows.length >= limit ? ` (the first ${limit}; --limit for more)` : ''}`);
}

async function retryOne(orderId: string): Promise<'retried' | 'conflict' | 'missing'> {
  const { status, body } = await call<{ message?: string }>('POST', `/orders/${encodeURIComponent(orderId)}/retry`);
  if (status === 202) return 'retried';
  if (status === 409) return 'conflict';
  if (status === 404) return 'missing';
  throw new CliError(`POST /orders/${orderId}/retry answered ${status}: ${body.message ?? JSON.stringify(body)}`);
}

async function retryAll(): Promise<void> {
  const ids: string[] = [];
  for await (const order of everyOrder('FAILED', 500)) ids.push(order.orderId);
  if (ids.length === 0) {
    say('no FAILED orders');
    return;
  }
  say(`retrying ${ids.length} FAILED order(s)…`);
  const counts = { retried: 0, conflict: 0, missing: 0 };
  for (let start = 0; start < ids.length; start += 20) {
    const outcomes = await mapLimit(ids.slice(start, start + 20), 20, (id) => retryOne(id));
    for (const outcome of outcomes) counts[outcome]++;
    say(
      `  ${Math.min(start + 20, ids.length)}/${ids.length}: ${counts.retried} retried, ${counts.conflict} no longer FAILED, ${counts.missing} gone`,
    );
  }
}

async function main(args: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseCommandLine(args, { limit: int(1, Number.MAX_SAFE_INTEGER, 50), 'all-failed': flag() }, { positionals: true });
  } catch (error) {
    throw error instanceof UsageError ? new CliError(`${error.message}\n${USAGE}`) : error;
  }
  if (parsed.help) return say(USAGE);
  const [command, ...rest] = parsed.positionals;
  const { limit } = parsed.values;
  switch (command) {
    case 'failed':
      return list('FAILED', limit);
    case 'list':
      if (!rest[0]) throw new CliError(`list needs a status\n${USAGE}`);
      return list(rest[0].toUpperCase(), limit);
    case 'retry':
      if (parsed.values['all-failed']) return retryAll();
      if (!rest[0]) throw new CliError(`retry needs an orderId or --all-failed\n${USAGE}`);
      switch (await retryOne(rest[0])) {
        case 'retried':
          say(`${rest[0]}: PENDING again, on the backlog and published`);
          return;
        case 'conflict':
          throw new CliError(`${rest[0]} is not FAILED; nothing changed`);
        case 'missing':
          throw new CliError(`${rest[0]} names no order`);
      }
      return;
    default:
      throw new CliError(USAGE);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof CliError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
