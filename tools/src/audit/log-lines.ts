import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/** One parsed JSON log line (the service's fields as written, or mapped back from Datadog). */
export type LogRecord = Record<string, unknown>;

/** A JSON log line, plus the process name a runner's prefix gave it, if any. */
export interface ParsedLine {
  record: LogRecord;
  /** `inventory-0` from `npm start`'s `inventory-0  | {…}`, `inventory-7d9f` from `kubectl logs --prefix`. */
  prefixName?: string;
}

// eslint-disable-next-line no-control-regex -- npm start colours its prefixes when writing to a terminal
const ANSI = /\u001b\[[0-9;]*m/g;
/** `[pod/inventory-7d9f/inventory]` (kubectl logs --prefix). */
const KUBECTL_PREFIX = /^\[pod\/([^/\]]+)\//;
/** `inventory-0   | ` (npm start, docker compose). */
const PIPE_PREFIX = /^([A-Za-z0-9_.-]+)\s*\|$/;

/**
 * Parses one line: a JSON object from the first `{` on, after whatever prefix a runner put before it.
 * Anything else (blank lines, stack traces, npm banners, truncated JSON) answers `undefined`.
 */
export function parseLogLine(line: string): ParsedLine | undefined {
  const start = line.indexOf('{');
  if (start < 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line.slice(start));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const prefix = line.slice(0, start).replace(ANSI, '').trim();
  const prefixName = prefix ? (KUBECTL_PREFIX.exec(prefix)?.[1] ?? PIPE_PREFIX.exec(prefix)?.[1]) : undefined;
  return prefixName ? { record: value as LogRecord, prefixName } : { record: value as LogRecord };
}

/** Counts of what a line source held. */
export interface LineStats {
  lines: number;
  /** Lines that were JSON objects. */
  jsonLines: number;
}

/** Feeds every JSON line of `stream` to `sink`; resolves with the counts when the stream ends. */
export async function readLogLines(stream: Readable, sink: (line: ParsedLine) => void): Promise<LineStats> {
  const stats: LineStats = { lines: 0, jsonLines: 0 };
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  for await (const line of lines) {
    stats.lines++;
    const parsed = parseLogLine(line);
    if (!parsed) continue;
    stats.jsonLines++;
    sink(parsed);
  }
  return stats;
}
