import { createSocket, type Socket } from 'node:dgram';
import { Metric } from '@eo/contract';
import { DogStatsDMetrics } from './metrics';

/** A UDP socket standing in for the Datadog Agent's DogStatsD port; keeps every line it receives. */
async function listen(): Promise<{ socket: Socket; port: number; lines: string[]; datagrams: string[] }> {
  const socket = createSocket('udp4');
  const lines: string[] = [];
  const datagrams: string[] = [];
  socket.on('message', (datagram) => {
    datagrams.push(datagram.toString('utf8'));
    lines.push(...datagram.toString('utf8').split('\n').filter(Boolean));
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, port: socket.address().port, lines, datagrams };
}

describe('DogStatsDMetrics', () => {
  const tags = { service: 'inventory', env: 'test', version: '1.2.3', replica: 'inventory-1' };

  it('sends counts, distributions and gauges with the unified service tags and replica on every point', async () => {
    const agent = await listen();
    const metrics = new DogStatsDMetrics({ host: '127.0.0.1', port: agent.port, tags });

    metrics.increment(Metric.Processed, { outcome: 'reserved' });
    metrics.distribution(Metric.EndToEnd, 12, { outcome: 'reserved' });
    metrics.gauge(Metric.BacklogSize, 3);
    await metrics.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    agent.socket.close();

    const common = 'service:inventory,env:test,version:1.2.3,replica:inventory-1';
    expect(agent.lines.sort()).toEqual(
      [
        `orders.backlog.size:3|g|#${common}`,
        `orders.end_to_end:12|d|#${common},outcome:reserved`,
        `orders.processed:1|c|#${common},outcome:reserved`,
      ].sort(),
    );
  });

  it('adds up counts and keeps the last gauge value per name and tag set, then sends one line each', async () => {
    const agent = await listen();
    const metrics = new DogStatsDMetrics({ host: '127.0.0.1', port: agent.port, tags: { replica: 'r' } });

    for (let i = 0; i < 200; i++) metrics.increment(Metric.Skipped, { reason: 'locked' });
    metrics.increment(Metric.Skipped, { reason: 'already_processed' });
    metrics.gauge(Metric.BacklogSize, 7);
    metrics.gauge(Metric.BacklogSize, 2);
    for (let i = 0; i < 50; i++) metrics.distribution(Metric.LockWait, i);
    await metrics.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    agent.socket.close();

    expect(agent.lines.filter((l) => !l.startsWith('orders.lock_wait')).sort()).toEqual([
      'orders.backlog.size:2|g|#replica:r',
      'orders.skipped:1|c|#replica:r,reason:already_processed',
      'orders.skipped:200|c|#replica:r,reason:locked',
    ]);
    // Distributions cannot be added up: every value is sent, packed into one line.
    expect(agent.lines.filter((l) => l.startsWith('orders.lock_wait'))).toEqual([
      `orders.lock_wait:${Array.from({ length: 50 }, (_, i) => i).join(':')}|d|#replica:r`,
    ]);
  });

  it('packs every value of a distribution into lines and datagrams that fit 1,432 bytes', async () => {
    const agent = await listen();
    const metrics = new DogStatsDMetrics({ host: '127.0.0.1', port: agent.port, tags });
    const values = Array.from({ length: 3000 }, (_, i) => i * 7);
    for (const value of values) metrics.distribution(Metric.EndToEnd, value, { outcome: 'reserved' });
    for (const value of values) metrics.distribution(Metric.EndToEnd, value, { outcome: 'rejected' });
    metrics.increment(Metric.Processed, { outcome: 'reserved' });
    await metrics.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    agent.socket.close();

    expect(Math.max(...agent.datagrams.map((d) => d.length))).toBeLessThanOrEqual(1432);
    // Several values per line, far fewer datagrams than values.
    expect(agent.datagrams.length).toBeLessThan(values.length / 20);
    const received = (outcome: string) =>
      agent.lines
        .filter((l) => l.startsWith('orders.end_to_end:') && l.endsWith(`outcome:${outcome}`))
        .flatMap((l) => {
          expect(l).toMatch(/^orders\.end_to_end(:\d+)+\|d\|#service:inventory,env:test,version:1\.2\.3,replica:inventory-1,outcome:\w+$/);
          return l.slice('orders.end_to_end:'.length, l.indexOf('|')).split(':').map(Number);
        });
    expect(received('reserved')).toEqual(values);
    expect(received('rejected')).toEqual(values);
    expect(agent.lines.filter((l) => l.startsWith('orders.processed'))).toHaveLength(1);
  });

  it('sends nothing for a distribution with no values since the last second', async () => {
    const agent = await listen();
    const metrics = new DogStatsDMetrics({ host: '127.0.0.1', port: agent.port, tags: { replica: 'r' } });
    metrics.distribution(Metric.LockWait, 3);
    const deadline = Date.now() + 5000;
    while (agent.lines.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setTimeout(resolve, 1200));
    await metrics.close();
    agent.socket.close();
    expect(agent.lines).toEqual(['orders.lock_wait:3|d|#replica:r']);
  });

  it('sends on its own every second, not only on close', async () => {
    const agent = await listen();
    const metrics = new DogStatsDMetrics({ host: '127.0.0.1', port: agent.port, tags: { replica: 'r' } });
    metrics.increment(Metric.Accepted);
    const deadline = Date.now() + 5000;
    while (agent.lines.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    await metrics.close();
    agent.socket.close();
    expect(agent.lines).toEqual(['orders.accepted:1|c|#replica:r']);
  });

  it('closes once however often it is asked to', async () => {
    const agent = await listen();
    const metrics = new DogStatsDMetrics({ host: '127.0.0.1', port: agent.port, tags: { replica: 'r' } });
    metrics.increment(Metric.Accepted);
    await Promise.all([metrics.close(), metrics.close()]);
    await metrics.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    agent.socket.close();
    expect(agent.lines).toEqual(['orders.accepted:1|c|#replica:r']);
  });

  it('does not throw when the agent host does not resolve, and reports the failure once', async () => {
    const errors: Error[] = [];
    const metrics = new DogStatsDMetrics({ host: 'no-such-host.invalid', port: 8125, tags, onError: (e) => errors.push(e) });
    // Enough values for several datagrams, each of which fails.
    for (let i = 0; i < 2000; i++) metrics.distribution(Metric.EndToEnd, i);
    metrics.increment(Metric.Accepted);
    await metrics.close();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ syscall: 'getaddrinfo', hostname: 'no-such-host.invalid' });
  });
});
