import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pacedLoad, type PacedLoadOptions } from './paced-load';

/** A real HTTP server that notes when each request arrived and answers 202 with its body's `n`. */
async function startServer(): Promise<{ server: Server; url: string; arrivals: Array<{ at: number; n: number; key: string }> }> {
  const arrivals: Array<{ at: number; n: number; key: string }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const { n } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { n: number };
      arrivals.push({ at: performance.now(), n, key: String(req.headers['idempotency-key']) });
      res.writeHead(n % 10 === 0 ? 409 : 202, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ orderId: `o-${n}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, arrivals };
}

function requests(): Pick<PacedLoadOptions, 'next'> {
  let n = 0;
  return {
    next: () => {
      const k = n++;
      return { headers: { 'content-type': 'application/json', 'idempotency-key': `k-${k}` }, body: JSON.stringify({ n: k }) };
    },
  };
}

describe('pacedLoad', () => {
  let target: Awaited<ReturnType<typeof startServer>>;

  beforeEach(async () => {
    target = await startServer();
  });

  afterEach(async () => {
    target.server.closeAllConnections();
    await new Promise((resolve) => target.server.close(resolve));
  });

  it('sends rate × seconds requests, each once with its own headers and body, and hands every answer back', async () => {
    const answers: Array<{ status: number; body: string }> = [];
    const result = await pacedLoad({
      url: target.url,
      path: '/orders',
      rate: 200,
      seconds: 1,
      connections: 8,
      ...requests(),
      onResponse: (status, body) => answers.push({ status, body }),
    });

    expect(result).toMatchObject({ sent: 200, answered: 200, errors: 0, timeouts: 0 });
    expect(target.arrivals.map((a) => a.n).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(new Set(target.arrivals.map((a) => a.key)).size).toBe(200);
    expect(answers.filter((a) => a.status === 202)).toHaveLength(180);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(20);
    expect(answers.map((a) => a.body)).toContain('{"orderId":"o-7"}');
    expect(result.latency.p50).toBeGreaterThan(0);
    expect(result.latency.p99).toBeGreaterThanOrEqual(result.latency.p50);
  });

  it('spreads the requests over the second instead of sending them in one burst', async () => {
    await pacedLoad({ url: target.url, path: '/', rate: 100, seconds: 1, connections: 64, ...requests(), onResponse: () => undefined });

    // Request k is due at k × 10 ms: request 50 can come late on a busy machine, never early.
    // A per-second quota (autocannon's overallRate) would send all 100 within a few milliseconds.
    const at = new Map(target.arrivals.map((a) => [a.n, a.at]));
    expect(at.get(50)! - at.get(0)!).toBeGreaterThanOrEqual(450);
    expect(at.get(99)! - at.get(0)!).toBeGreaterThanOrEqual(900);
  });

  it('counts refused connections as errors and still finishes', async () => {
    const { url } = target;
    target.server.closeAllConnections();
    await new Promise((resolve) => target.server.close(resolve));
    target = await startServer(); // for afterEach; the load goes to the closed port

    const result = await pacedLoad({ url, path: '/', rate: 50, seconds: 0.2, connections: 4, ...requests(), onResponse: () => undefined });

    expect(result).toMatchObject({ sent: 10, answered: 10, errors: 10 });
  });

  it('rejects a rate, duration or connection count that is not positive', async () => {
    const base = { url: target.url, path: '/', ...requests(), onResponse: () => undefined };
    await expect(pacedLoad({ ...base, rate: 0, seconds: 1, connections: 1 })).rejects.toThrow(RangeError);
    await expect(pacedLoad({ ...base, rate: 1, seconds: -1, connections: 1 })).rejects.toThrow(RangeError);
    await expect(pacedLoad({ ...base, rate: 1, seconds: 1, connections: 0 })).rejects.toThrow(RangeError);
  });
});
