import { createSocket, type Socket } from 'node:dgram';
import { DogStatsDMetrics, Metric } from './metrics';

/** A UDP socket standing in for the Datadog Agent's DogStatsD port; keeps every line it receives. */
async function listen(): Promise<{ socket: Socket; port: number; lines: string[] }> {
  const socket = createSocket('udp4');
  const lines: string[] = [];
  socket.on('message', (datagram) => lines.push(...datagram.toString('utf8').split('\n').filter(Boolean)));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, port: socket.address().port, lines };
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
    // Distributions cannot be added up: every value is sent.
    expect(agent.lines.filter((l) => l.startsWith('orders.lock_wait'))).toHaveLength(50);
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

  it('does not throw when the agent host does not resolve, and reports the failure at most once', async () => {
    const errors: Error[] = [];
    const metrics = new DogStatsDMetrics({ host: 'no-such-host.invalid', port: 8125, tags, onError: (e) => errors.push(e) });
    for (let i = 0; i < 5; i++) {
      metrics.increment(Metric.Accepted);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await metrics.close();
    expect(errors.length).toBeLessThanOrEqual(1);
  });
});
