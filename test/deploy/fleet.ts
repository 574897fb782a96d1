/**
 * Shared by the "run what the manifests say" tests: wait for pods' probes, push orders through the
 * order pods, and check exactly-once over everything the pods logged and stored.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import { RedisKeys, type OrderItem } from '@eo/contract';
import { checkInvariants, delay, formatReport, mapLimit, requestJson, type InvariantReport, type ServiceProcess } from '@eo/local';

/** Polls `url` until it answers 200; fails early with the process's output if it exits. */
export async function waitFor200(url: string, process: ServiceProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!process.running) throw new Error(`${process.name} exited before ${url} answered 200\n${process.tail()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms\n${process.tail()}`);
    await delay(100);
  }
}

/** What {@link placeOrdersAndCheck} needs. */
export interface OrderRun {
  /** Base URLs of the order pods (orders are spread over them, as a Service would). */
  orderUrls: string[];
  /** Base URLs of the inventory pods (stock is seeded through them). */
  inventoryUrls: string[];
  redis: Redis;
  namespace: string | undefined;
  processes: ServiceProcess[];
  orders?: number;
}

/**
 * Seeds scarce stock through the inventory API, places `orders` orders (64 at a time, round robin
 * over the order pods), waits for each with `GET ?waitMs`, then checks the invariants: one terminal
 * status and one `order.processed` line per order, no oversell, stock conserved, empty backlog.
 */
export async function placeOrdersAndCheck(run: OrderRun): Promise<InvariantReport> {
  const count = run.orders ?? 300;
  const prefix = `deploy-${Math.random().toString(36).slice(2, 8)}`;
  const initialStock: Record<string, number> = { [`${prefix}-A`]: 60, [`${prefix}-B`]: 25, [`${prefix}-PLENTY`]: 100_000 };
  let i = 0;
  for (const [sku, available] of Object.entries(initialStock)) {
    const url = run.inventoryUrls[i++ % run.inventoryUrls.length];
    const reply = await requestJson(`${url}/inventory/${sku}`, { method: 'PUT', body: { available } });
    if (reply.status !== 200) throw new Error(`PUT /inventory/${sku} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  }
  const orders: OrderItem[][] = Array.from({ length: count }, (_, n) => [
    { sku: n % 2 === 0 ? `${prefix}-A` : `${prefix}-B`, quantity: 1 + (n % 3) },
    ...(n % 5 === 0 ? [{ sku: `${prefix}-PLENTY`, quantity: 2 }] : []),
  ]);
  const accepted = await mapLimit(orders, 64, async (items, n) => {
    const reply = await requestJson<{ orderId?: string }>(`${run.orderUrls[n % run.orderUrls.length]}/orders`, {
      body: { items },
      timeoutMs: 30_000,
    });
    if (reply.status !== 202 || typeof reply.body.orderId !== 'string')
      throw new Error(`POST /orders answered ${reply.status}: ${JSON.stringify(reply.body)}`);
    return reply.body.orderId;
  });
  await mapLimit(accepted, 32, async (orderId, n) => {
    const url = `${run.orderUrls[n % run.orderUrls.length]}/orders/${orderId}?waitMs=20000`;
    const reply = await requestJson<{ status: string }>(url, { timeoutMs: 30_000 });
    if (reply.status !== 200 || reply.body.status === 'PENDING') throw new Error(`${url}: ${reply.status} ${JSON.stringify(reply.body)}`);
  });
  const keys = new RedisKeys(run.namespace);
  // The backlog entry goes in the commit; the order.processed line follows the commit's reply.
  const deadline = Date.now() + 10_000;
  while ((await run.redis.zcard(keys.pending)) > 0 && Date.now() < deadline) await delay(50);
  const logged = (): number => run.processes.flatMap((p) => p.events('order.processed')).length;
  while (logged() < count && Date.now() < deadline) await delay(50);
  const report = await checkInvariants({
    redis: run.redis,
    keys,
    acceptedOrderIds: accepted,
    initialStock,
    logs: run.processes.flatMap((p) => p.logs),
  });
  if (!report.ok) throw new Error(formatReport(report));
  return report;
}

/** Runs a one-shot `node` command (a helm test pod, locally) and returns its output; rejects on a non-zero exit. */
export async function runOnce(
  argv: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<{ stdout: string; stderr: string }> {
  const [, ...args] = argv;
  // `env` replaces the environment: only the container's variables (and PATH).
  return promisify(execFile)(process.execPath, args, { env: { PATH: process.env.PATH, ...env }, timeout: timeoutMs });
}
