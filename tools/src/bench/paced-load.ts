/**
 * An open-loop load at a steady rate: request k leaves at start + k / rate, whether or not earlier
 * answers are back, over at most `connections` keep-alive sockets.
 *
 * autocannon's `overallRate` is not that: each connection sends back to back until it has used its
 * share of the second, then waits for the next second. At half the peak rate the system sees full
 * speed for half of every second and nothing for the other half, so "latency at half the peak rate"
 * measured that way is latency at full speed. Here arrivals are spread over the second (a 1 ms
 * tick), and HTTP latency is taken from each request's scheduled time, so a request that had to
 * wait for a free socket counts its wait (no coordinated omission).
 */
import { Agent, request as httpRequest } from 'node:http';
import { percentiles } from './percentiles';

export interface PacedRequest {
  headers: Record<string, string>;
  body: string;
}

export interface PacedLoadOptions {
  /** Base URL; requests go to `path` on it. */
  url: string;
  path: string;
  /** Requests per second. */
  rate: number;
  seconds: number;
  connections: number;
  /** Per-request timeout. */
  timeoutMs?: number;
  next: () => PacedRequest;
  onResponse: (status: number, body: string) => void;
}

export interface PacedLoadResult {
  sent: number;
  answered: number;
  errors: number;
  timeouts: number;
  durationS: number;
  /** From each request's scheduled time to its answer, in ms. */
  latency: { p50: number; p99: number; max: number };
  /** The most requests that were due but waiting for a socket at one time. */
  maxQueued: number;
}

const TICK_MS = 1;

export async function pacedLoad(options: PacedLoadOptions): Promise<PacedLoadResult> {
  const { rate, seconds, connections } = options;
  if (!(rate > 0) || !(seconds > 0) || !(connections > 0)) throw new RangeError('rate, seconds and connections must be positive');
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const target = new URL(options.path, options.url);
  const total = Math.round(rate * seconds);
  const latencies = new Float64Array(total);
  let sent = 0;
  let answered = 0;
  let errors = 0;
  let timeouts = 0;
  let inFlight = 0;
  let maxQueued = 0;
  let lastSent = 0;
  const start = performance.now();
  const intervalMs = 1000 / rate;

  await new Promise<void>((resolve) => {
    let ticking = true;
    const settle = (): void => {
      if (!ticking && inFlight === 0) resolve();
    };
    const send = (k: number): void => {
      const scheduled = start + k * intervalMs;
      const { headers, body } = options.next();
      inFlight++;
      let finished = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        inFlight--;
        answered++;
        latencies[k] = performance.now() - scheduled;
        settle();
      };
      const req = httpRequest(
        target,
        { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) }, timeout: options.timeoutMs ?? 10_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            options.onResponse(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'));
            finish();
          });
          res.on('error', () => {
            errors++;
            finish();
          });
        },
      );
      let timedOut = false;
      req.on('timeout', () => {
        timedOut = true;
        timeouts++;
        req.destroy(new Error('timeout'));
      });
      req.on('error', () => {
        if (!timedOut) errors++;
        finish();
      });
      req.end(body);
    };
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
      while (sent < due) send(sent++);
      maxQueued = Math.max(maxQueued, inFlight - connections);
      if (sent >= total) {
        lastSent = performance.now();
        clearInterval(timer);
        ticking = false;
        settle();
      }
    }, TICK_MS);
  });
  agent.destroy();

  const { p50, p99, max } = percentiles(latencies.subarray(0, sent));
  return {
    sent,
    answered,
    errors,
    timeouts,
    // The sending window (the answers of the last requests come after it).
    durationS: (lastSent - start) / 1000,
    latency: { p50, p99, max },
    maxQueued: Math.max(0, maxQueued),
  };
}
