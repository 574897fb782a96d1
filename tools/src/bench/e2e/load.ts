import autocannon from 'autocannon';
import { pacedLoad } from '../paced-load';
import { ORDER_BODIES } from './options';
import { active } from './lifecycle';

// Load

export interface LoadResult {
  /** orderIds of the 202 answers. */
  accepted: string[];
  /** Status code → count, for everything but 202. */
  refused: Record<string, number>;
  errors: number;
  timeouts: number;
  durationS: number;
  httpLatency: { p50: number; p99: number };
}

export let counter = 0;
export const RUN_TAG = `b${Date.now().toString(36)}`;
export const ORDER_ID_IN_BODY = /"orderId":"([^"]+)"/;

/** The next POST /orders: a fresh idempotency key and one of the order bodies in turn. */
export function nextOrder(): { headers: Record<string, string>; body: string } {
  const n = counter++;
  return {
    headers: { 'content-type': 'application/json', 'idempotency-key': `${RUN_TAG}-${n}` },
    body: ORDER_BODIES[n % ORDER_BODIES.length],
  };
}

/** Sorts answers into accepted orderIds (202) and refusals by status. */
export function answerCollector(): Pick<LoadResult, 'accepted' | 'refused'> & { onResponse: (status: number, body: string) => void } {
  const accepted: string[] = [];
  const refused: Record<string, number> = {};
  return {
    accepted,
    refused,
    onResponse: (status, body) => {
      const id = status === 202 ? ORDER_ID_IN_BODY.exec(body)?.[1] : undefined;
      if (id !== undefined) accepted.push(id);
      else refused[status] = (refused[status] ?? 0) + 1;
    },
  };
}

/** POST /orders with autocannon at full speed: `seconds` long (or `amount` requests), closed loop. */
export function drive(url: string, load: { seconds?: number; amount?: number; connections: number }): Promise<LoadResult> {
  const answers = answerCollector();
  return new Promise<LoadResult>((resolve, reject) => {
    let done = false;
    const instance = autocannon(
      {
        url,
        connections: load.connections,
        // autocannon rejects keys present with an undefined value.
        ...(load.seconds !== undefined && { duration: load.seconds }),
        ...(load.amount !== undefined && { amount: load.amount }),
        timeout: 10,
        requests: [
          {
            method: 'POST',
            path: '/orders',
            setupRequest: (request) => ({ ...request, ...nextOrder() }),
            onResponse: answers.onResponse,
          },
        ],
      },
      (error, result) => {
        done = true;
        active.cannon = undefined;
        if (error) return reject(error instanceof Error ? error : new Error(String(error)));
        resolve({
          accepted: answers.accepted,
          refused: answers.refused,
          errors: result.errors,
          timeouts: result.timeouts,
          durationS: result.duration,
          httpLatency: { p50: result.latency.p50, p99: result.latency.p99 },
        });
      },
    );
    if (!done) active.cannon = instance;
  });
}

/** POST /orders open loop at a steady `rate` (see paced-load.ts for why not autocannon's overallRate). */
export async function pace(url: string, load: { seconds: number; connections: number; rate: number }): Promise<LoadResult> {
  const answers = answerCollector();
  const result = await pacedLoad({ url, path: '/orders', ...load, next: nextOrder, onResponse: answers.onResponse });
  return {
    accepted: answers.accepted,
    refused: answers.refused,
    errors: result.errors,
    timeouts: result.timeouts,
    durationS: result.durationS,
    httpLatency: { p50: result.latency.p50, p99: result.latency.p99 },
  };
}
