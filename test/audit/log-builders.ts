import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A JSON log line's fields, as the services write them. */
export type Fields = Record<string, unknown>;

const BASE_TIME = Date.parse('2025-03-01T12:00:00.000Z');

/** ISO time `seconds` after a fixed start. */
export function at(seconds: number): string {
  return new Date(BASE_TIME + seconds * 1000).toISOString();
}

function line(service: string, replica: string, event: string, seconds: number, fields: Fields = {}): Fields {
  return { level: 'info', time: at(seconds), service, env: 'test', version: '0.1.0', replica, msg: event, event, ...fields };
}

/** `order.accepted` from the order service. */
export function accepted(orderId: string, seconds: number): Fields {
  return line('order', 'order-0', 'order.accepted', seconds, { orderId });
}

/** `order.processed` from an inventory replica. */
export function processed(orderId: string, replica: string, seconds: number, fields: Fields = {}): Fields {
  return line('inventory', replica, 'order.processed', seconds, { orderId, outcome: 'reserved', attempt: 1, durationMs: 3, ...fields });
}

/** `order.skipped` (another replica holds the lock, by default). */
export function skipped(orderId: string, replica: string, seconds: number, reason = 'locked'): Fields {
  return line('inventory', replica, 'order.skipped', seconds, { orderId, reason });
}

/** `order.lease_lost`. */
export function leaseLost(orderId: string, replica: string, seconds: number, stage = 'commit'): Fields {
  return line('inventory', replica, 'order.lease_lost', seconds, { orderId, stage });
}

/** `order.failed` (terminal FAILED). */
export function failed(orderId: string, replica: string, seconds: number): Fields {
  return line('inventory', replica, 'order.failed', seconds, { orderId, attempt: 5 });
}

/** `order.cancelled`: by the order service (`released: false`), or by the replica that released the stock. */
export function cancelled(orderId: string, replica: string, seconds: number, released: boolean): Fields {
  const service = released ? 'inventory' : 'order';
  return line(service, replica, 'order.cancelled', seconds, { orderId, outcome: 'cancelled', released });
}

/** `order.cancel_requested` from the order service (a RESERVED order's release is now due). */
export function cancelRequested(orderId: string, seconds: number): Fields {
  return line('order', 'order-0', 'order.cancel_requested', seconds, { orderId });
}

/** `message.invalid`. */
export function invalidMessage(replica: string, seconds: number): Fields {
  return line('inventory', replica, 'message.invalid', seconds, { error: 'not JSON' });
}

/** A service line that is not an order event. */
export function started(service: string, replica: string, seconds: number): Fields {
  return line(service, replica, 'service.started', seconds, { port: 3000 });
}

/**
 * `count` healthy orders from `firstSecond` on, one per second: accepted, skipped by every replica
 * but one (round robin), processed by that one. Ids `<prefix>-<i>`.
 */
export function healthyRun(count: number, options: { prefix?: string; replicas?: number; firstSecond?: number } = {}): Fields[] {
  const { prefix = 'ord', replicas = 3, firstSecond = 0 } = options;
  const lines: Fields[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${prefix}-${i}`;
    const t = firstSecond + i;
    const winner = `inventory-${i % replicas}`;
    lines.push(accepted(id, t));
    for (let r = 0; r < replicas; r++) if (`inventory-${r}` !== winner) lines.push(skipped(id, `inventory-${r}`, t + 0.01));
    lines.push(processed(id, winner, t + 0.02, { outcome: i % 4 === 0 ? 'rejected' : 'reserved' }));
  }
  return lines;
}

/** How a line is written to a file: bare, or behind the prefix a runner adds. */
export type Framing = 'bare' | 'npm-start' | 'kubectl';

/** One file line for `fields`, framed as `npm start` or `kubectl logs --prefix` would print it. */
export function frame(fields: Fields, framing: Framing): string {
  const json = JSON.stringify(fields);
  const replica = String(fields.replica);
  if (framing === 'npm-start') return `${replica.padEnd(13)}| ${json}`;
  if (framing === 'kubectl') return `[pod/${replica}/${String(fields.service)}] ${json}`;
  return json;
}

/** Lines that are not JSON log records, as found in real captures. */
export const GARBAGE = [
  '',
  '> exactly-once-orders@0.1.0 start',
  'start        | started redis-server on redis://127.0.0.1:40001',
  '(node:1234) Warning: something deprecated',
  '    at Object.<anonymous> (/app/dist/main.js:1:1)',
  '{"level":"info","time":"2025-03-01T12:00:00.000Z","msg":"truncated',
  '[1, 2, 3]',
];

/** A log file's text: `records` framed, with the garbage lines mixed in. */
export function logText(records: readonly Fields[], framing: Framing = 'bare', garbage = true): string {
  const out: string[] = [];
  records.forEach((fields, i) => {
    if (garbage && i % 7 === 0) out.push(GARBAGE[(i / 7) % GARBAGE.length]);
    out.push(frame(fields, framing));
  });
  return `${out.join('\n')}\n`;
}

/** A temporary directory for log files, removed by `cleanup()`. */
export class LogDir {
  readonly path = mkdtempSync(join(tmpdir(), 'eo-audit-'));

  write(name: string, text: string): string {
    const file = join(this.path, name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    return file;
  }

  cleanup(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}
