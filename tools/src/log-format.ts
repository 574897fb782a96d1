/** How `npm start` shows the services' JSON lines: as they are, or one short line per event. */
export type LogFormat = 'json' | 'pretty';

const LEVEL_COLOURS: Record<string, number> = { trace: 90, debug: 90, info: 0, warn: 33, error: 31, fatal: 31 };

/** `LOG_FORMAT` (json or pretty), else pretty on a terminal and JSON otherwise. */
export function logFormat(value: string | undefined, terminal: boolean): LogFormat {
  const chosen = value?.trim().toLowerCase();
  if (!chosen) return terminal ? 'pretty' : 'json';
  if (chosen !== 'json' && chosen !== 'pretty') throw new Error(`LOG_FORMAT must be json or pretty, got "${value}"`);
  return chosen;
}

function field(line: Record<string, unknown>, name: string): string | undefined {
  const value = line[name];
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
}

/**
 * One JSON log line as `HH:MM:SS.mmm level event orderId outcome message`: what a person scans for in
 * a terminal. A line that is not a JSON object is shown as it is.
 */
export function prettyLine(raw: string, colour = false): string {
  let line: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return raw;
    line = parsed as Record<string, unknown>;
  } catch {
    return raw;
  }
  const time = field(line, 'time')?.slice(11, 23) ?? '';
  const level = field(line, 'level') ?? '';
  const parts = [time, level.padEnd(5), field(line, 'event') ?? '-'];
  const orderId = field(line, 'orderId');
  if (orderId) parts.push(orderId);
  const outcome = field(line, 'outcome') ?? field(line, 'reason') ?? field(line, 'state');
  if (outcome) parts.push(outcome);
  const msg = field(line, 'msg');
  if (msg) parts.push(`— ${msg}`);
  const text = parts.join(' ');
  const code = LEVEL_COLOURS[level] ?? 0;
  return colour && code !== 0 ? `\x1b[${code}m${text}\x1b[0m` : text;
}

/** A function that shows a line in the chosen format. */
export function logFormatter(value: string | undefined, terminal: boolean): (raw: string) => string {
  return logFormat(value, terminal) === 'pretty' ? (raw) => prettyLine(raw, terminal) : (raw) => raw;
}
