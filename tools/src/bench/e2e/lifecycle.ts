import type { Server } from 'node:http';
import autocannon from 'autocannon';
import type { Redis } from 'ioredis';
import { RedisServer, SystemHarness } from '@eo/local';
import { say } from './run';

// Cleanup on exit, Ctrl-C and errors

export const active = {
  cannon: undefined as autocannon.Instance | undefined,
  clients: new Set<Redis>(),
  harnesses: new Set<SystemHarness>(),
  servers: new Set<RedisServer>(),
  sinks: new Set<Server>(),
};
export let interrupted = false;

export class Interrupted extends Error {}

export function checkInterrupted(): void {
  if (interrupted) throw new Interrupted('interrupted');
}

export function stopLoad(): void {
  if (typeof active.cannon?.stop === 'function') active.cannon.stop();
  active.cannon = undefined;
}

export async function cleanup(): Promise<void> {
  stopLoad();
  for (const client of active.clients) client.disconnect();
  active.clients.clear();
  await Promise.all([...active.harnesses].map((h) => h.stop(5000).catch(() => undefined)));
  active.harnesses.clear();
  await Promise.all([...active.servers].map((s) => s.stop().catch(() => undefined)));
  active.servers.clear();
  for (const sink of active.sinks) sink.close();
  active.sinks.clear();
}

export function onSignal(signal: NodeJS.Signals): void {
  if (interrupted) {
    // Second signal: no more waiting. Services are SIGKILLed by the harness's exit hook.
    for (const server of active.servers) if (server.pid) process.kill(server.pid, 'SIGKILL');
    process.exit(130);
  }
  interrupted = true;
  say(`\n${signal}: stopping the load, the services and Redis…`);
  stopLoad();
  void cleanup().finally(() => process.exit(130));
}

// Last resort (uncaught error, process.exit): no redis-server outlives the bench.
process.on('exit', () => {
  for (const server of active.servers) {
    try {
      if (server.pid) process.kill(server.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});
