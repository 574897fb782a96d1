/**
 * `npm run audit`: checks exactly-once from the services' JSON log lines — every accepted order
 * processed (or FAILED) and no order processed twice — reading files, quoted globs, directories or
 * stdin, or (`--datadog`) the same events from Datadog's Logs Search API. Exit 0 when clean, 1 on a
 * duplicate or a loss, 2 on a usage error or when the audit could not run. `--help` for the options.
 */
import { createReadStream } from 'node:fs';
import { relative } from 'node:path';
import type { Readable } from 'node:stream';
import { flag, int, parseCommandLine, string, UsageError } from './cli/command-line';
import {
  AuditFold,
  auditQuery,
  DatadogConfigError,
  datadogSettings,
  expandInputs,
  formatAuditReport,
  InputError,
  readLogLines,
  searchDatadog,
  type AuditReport,
} from './audit/index';

const USAGE = `usage: npm run audit -- [options] [file | directory | 'glob' …]     (no file: reads stdin)
       npm run audit -- --datadog --from now-15m [--to now] [--env prod] [--query '…']

  --json               print the report as JSON
  --grace-seconds N    orders accepted within N s of the newest line are in flight, not lost (30)
  --env NAME           only lines of this env (with --datadog: env:NAME in the query)
  --datadog            read Datadog's Logs Search API (needs DD_API_KEY, DD_APP_KEY, DD_SITE)
  --from T, --to T     with --datadog: now-15m, an ISO time or epoch ms (--to defaults to now)
  --query Q            with --datadog: more search terms, ANDed with the audit query
  --max-events N       with --datadog: stop after N events, with a warning (1000000)
  --api-url URL        with --datadog: base URL instead of https://api.<DD_SITE> (tests, proxies;
                       also DD_API_BASE_URL)

Globs (*, ?, [..], **) are expanded by the tool when quoted; a directory means every file in it.
Exit status: 0 no violation · 1 an order processed more than once, an accepted order never processed,
or FAILED plus another terminal line · 2 usage error, or the audit could not run.`;

interface Options {
  json: boolean;
  graceSeconds: number;
  env: string | undefined;
  inputs: string[];
  datadog: { from: string; to: string; query: string | undefined; maxEvents: number; apiUrl: string | undefined } | undefined;
}

/** Where the lines came from, printed with the report (and under `source` in `--json`). */
interface SourceInfo {
  kind: 'files' | 'stdin' | 'datadog';
  files?: string[];
  lines?: number;
  nonJsonLines?: number;
  query?: string;
  from?: string;
  to?: string;
  pages?: number;
  truncated?: boolean;
  warnings?: string[];
}

const OPTIONS = {
  json: flag(),
  'grace-seconds': int(0, 86_400, 30),
  env: string(),
  datadog: flag(),
  from: string(),
  to: string(),
  query: string(),
  'max-events': int(1, 100_000_000),
  'api-url': string(),
};

function parseOptions(argv: string[]): Options | undefined {
  const { values, positionals, help } = parseCommandLine(argv, OPTIONS, { positionals: true });
  if (help) return undefined;
  const options: Options = {
    json: values.json,
    graceSeconds: values['grace-seconds'],
    env: values.env?.trim() || undefined,
    inputs: positionals,
    datadog: undefined,
  };
  const datadogOnly = (['from', 'to', 'query', 'max-events', 'api-url'] as const).filter((name) => values[name] !== undefined);
  if (!values.datadog) {
    if (datadogOnly.length) throw new UsageError(`--${datadogOnly[0]} needs --datadog`);
    return options;
  }
  if (positionals.length) throw new UsageError(`--datadog reads from Datadog, not from files (got ${positionals[0]})`);
  if (!values.from?.trim()) throw new UsageError('--datadog needs --from (e.g. --from now-15m)');
  options.datadog = {
    from: values.from.trim(),
    to: values.to?.trim() || 'now',
    query: values.query,
    maxEvents: values['max-events'] ?? 1_000_000,
    apiUrl: values['api-url'],
  };
  return options;
}

function warn(message: string): void {
  process.stderr.write(`audit: ${message}\n`);
}

async function readStreams(fold: AuditFold, streams: Array<{ name: string; open: () => Readable }>, source: SourceInfo): Promise<void> {
  let lines = 0;
  let jsonLines = 0;
  for (const { name, open } of streams) {
    const stream = open();
    try {
      const stats = await readLogLines(stream, (line) => fold.addLine(line));
      lines += stats.lines;
      jsonLines += stats.jsonLines;
    } catch (error) {
      throw new InputError(`${name}: ${(error as Error).message}`);
    }
  }
  source.lines = lines;
  source.nonJsonLines = lines - jsonLines;
}

async function audit(options: Options): Promise<{ report: AuditReport; source: SourceInfo }> {
  const fold = new AuditFold({ graceSeconds: options.graceSeconds, env: options.datadog ? undefined : options.env });
  if (options.datadog) {
    const settings = datadogSettings(process.env, options.datadog.apiUrl);
    const query = auditQuery(options.env, options.datadog.query);
    const progress = process.stderr.isTTY;
    const result = await searchDatadog(
      settings,
      {
        from: options.datadog.from,
        to: options.datadog.to,
        env: options.env,
        extraQuery: options.datadog.query,
        maxEvents: options.datadog.maxEvents,
      },
      (record) => fold.add(record),
      progress ? (pages, events) => process.stderr.write(`\raudit: ${events} event(s), ${pages} page(s)…`) : undefined,
    );
    if (progress) process.stderr.write('\n');
    for (const warning of result.warnings) warn(`Datadog: ${warning}`);
    if (result.truncated) {
      warn(`stopped at --max-events ${options.datadog.maxEvents}: the report covers only the oldest part of the range`);
    }
    const source: SourceInfo = {
      kind: 'datadog',
      query,
      from: options.datadog.from,
      to: options.datadog.to,
      pages: result.pages,
      truncated: result.truncated,
    };
    if (result.warnings.length) source.warnings = result.warnings;
    return { report: fold.report(), source };
  }
  if (options.inputs.length === 0) {
    if (process.stdin.isTTY) throw new UsageError('no input: give log files, directories or quoted globs, or pipe the logs into stdin');
    const source: SourceInfo = { kind: 'stdin' };
    await readStreams(fold, [{ name: 'stdin', open: () => process.stdin }], source);
    return { report: fold.report(), source };
  }
  const files = expandInputs(options.inputs);
  const source: SourceInfo = { kind: 'files', files: files.map((file) => relative(process.cwd(), file) || file) };
  await readStreams(
    fold,
    files.map((file) => ({ name: file, open: () => createReadStream(file) })),
    source,
  );
  return { report: fold.report(), source };
}

function describe(source: SourceInfo): string {
  switch (source.kind) {
    case 'datadog':
      return `Datadog logs ${source.from} → ${source.to} (${source.pages} page(s)${source.truncated ? ', TRUNCATED at --max-events' : ''}): ${source.query}`;
    case 'stdin':
      return `stdin (${source.lines} line(s), ${source.nonJsonLines} not JSON)`;
    case 'files':
      return `${source.files!.length} file(s) (${source.lines} line(s), ${source.nonJsonLines} not JSON)`;
  }
}

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (!options) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { report, source } = await audit(options);
  if (report.input.events === 0) warn('no order event in the input: nothing was checked (wrong files, env or time range?)');
  process.stdout.write(
    options.json ? `${JSON.stringify({ source, ...report }, null, 2)}\n` : `${formatAuditReport(report, describe(source))}\n`,
  );
  return report.ok ? 0 : 1;
}

process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`audit: ${error.message}\n${USAGE}\n`);
    } else if (error instanceof InputError || error instanceof DatadogConfigError) {
      process.stderr.write(`audit: ${error.message}\n`);
    } else {
      process.stderr.write(`audit failed: ${describeError(error)}\n`);
    }
    process.exitCode = 2;
  },
);

/** One line for an API or network failure, with the HTTP status and the API's own error text. */
function describeError(error: unknown): string {
  if (error instanceof Error && 'code' in error && 'body' in error && typeof error.code === 'number') {
    const body = typeof error.body === 'string' ? error.body : JSON.stringify(error.body);
    const hint = error.code === 403 ? " (check DD_API_KEY, DD_APP_KEY and that DD_SITE is your organization's site)" : '';
    return `Datadog answered HTTP ${error.code}${hint}: ${body}`;
  }
  return error instanceof Error ? error.message : String(error);
}
