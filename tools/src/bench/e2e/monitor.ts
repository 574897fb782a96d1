import { ENGINE_SCRIPTS } from '@eo/exactly-once';
import { STOCK_SCRIPTS } from '@eo/inventory/scripts';
import { ORDER_SCRIPTS } from '@eo/order/scripts';
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { OrderStore } from '@eo/contract';
import { scriptSource, type ScriptSet } from '@eo/exactly-once';
import { delay, RedisServer, SystemHarness } from '@eo/local';
import { SAMPLE_ORDERS } from './options';
import { waitForEmptyBacklog } from './readings';
import { drive } from './load';
import { say } from './run';
import { active } from './lifecycle';

// MONITOR sample: which commands the services send per order, and which run inside scripts

export interface RoundTrips {
  orders: number;
  /** Commands sent by the services per order (EVALSHA by script name), without the sweep. */
  perOrder: number;
  /** The same, including background sweeps (due) seen in the window. */
  perOrderWithSweeps: number;
  byCommand: Record<string, number>;
  byProcess: Record<string, number>;
  /** Commands run inside scripts per order (commandstats counts these too, under their own names). */
  insideScriptsPerOrder: number;
  insideScriptsByCommand: Record<string, number>;
}

export function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

export const SCRIPT_BY_SHA = new Map<string, string>(
  Object.values<ScriptSet[string]>({ ...ENGINE_SCRIPTS, ...ORDER_SCRIPTS, ...STOCK_SCRIPTS }).map(({ file }) => [
    sha1(scriptSource(file)),
    basename(file, '.lua'),
  ]),
);

export function commandLabel(args: string[]): string {
  const name = (args[0] ?? '').toLowerCase();
  if (name === 'evalsha') return `evalsha ${SCRIPT_BY_SHA.get(args[1] ?? '') ?? 'unknown script'}`;
  if (name === 'eval') return `eval ${SCRIPT_BY_SHA.get(sha1(args[1] ?? '')) ?? 'inline script'}`;
  return name;
}

export async function monitorSample(server: RedisServer, harness: SystemHarness, connections: number): Promise<RoundTrips> {
  const control = server.client();
  control.on('error', () => undefined);
  active.clients.add(control);
  try {
    const own = new Set<string>();
    const ownInfo = await control.call('CLIENT', 'INFO');
    own.add(/addr=(\S+)/.exec(String(ownInfo))?.[1] ?? '');
    const names = new Map<string, string>();
    for (const line of String(await control.call('CLIENT', 'LIST')).split('\n')) {
      const addr = /addr=(\S+)/.exec(line)?.[1];
      const name = /name=(\S*)/.exec(line)?.[1];
      if (addr) names.set(addr, name || addr);
    }
    const monitor = await control.monitor();
    active.clients.add(monitor);
    const byCommand: Record<string, number> = {};
    const byProcess: Record<string, number> = {};
    const inside: Record<string, number> = {};
    let sweeps = 0;
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (own.has(source)) return;
      const label = commandLabel(args);
      if (source === 'lua') {
        inside[label] = (inside[label] ?? 0) + 1;
        return;
      }
      if (label === 'monitor') return;
      if (label.endsWith(' due')) sweeps++;
      byCommand[label] = (byCommand[label] ?? 0) + 1;
      const owner = (names.get(source) ?? source).split(':').slice(0, 2).join(':');
      byProcess[owner] = (byProcess[owner] ?? 0) + 1;
    });
    const stored0 = (await new OrderStore(control, harness.keys).allIds()).length;
    await delay(100);
    const load = await drive(harness.orderUrl, { amount: SAMPLE_ORDERS, connections: Math.min(connections, 32) });
    await waitForEmptyBacklog(control, harness.keys, 30_000, {});
    await delay(200);
    monitor.disconnect();
    active.clients.delete(monitor);
    const orders = Math.max(1, (await new OrderStore(control, harness.keys).allIds()).length - stored0);
    if (orders !== load.accepted.length) say(`  (${orders} orders stored, ${load.accepted.length} answered 202)`);
    const sent = Object.values(byCommand).reduce((a, b) => a + b, 0);
    const insideTotal = Object.values(inside).reduce((a, b) => a + b, 0);
    const per = (record: Record<string, number>): Record<string, number> =>
      Object.fromEntries(
        Object.entries(record)
          .sort(([, a], [, b]) => b - a)
          .map(([k, v]) => [k, v / orders]),
      );
    return {
      orders,
      perOrder: (sent - sweeps) / orders,
      perOrderWithSweeps: sent / orders,
      byCommand: per(byCommand),
      byProcess: per(byProcess),
      insideScriptsPerOrder: insideTotal / orders,
      insideScriptsByCommand: per(inside),
    };
  } finally {
    control.disconnect();
    active.clients.delete(control);
  }
}
