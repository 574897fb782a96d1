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

  it('batches points into datagrams below the UDP limit and sends the rest on close', async () => {
    const agent = await listen();
    const datagrams: number[] = [];
    agent.socket.on('message', (datagram) => datagrams.push(datagram.length));
    const metrics = new DogStatsDMetrics({ host: '127.0.0.1', port: agent.port, tags });

    for (let i = 0; i < 200; i++) metrics.increment(Metric.Skipped, { reason: 'locked' });
    await metrics.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    agent.socket.close();

    expect(agent.lines).toHaveLength(200);
    expect(datagrams.length).toBeLessThan(50);
    expect(Math.max(...datagrams)).toBeLessThanOrEqual(1432);
  });

  it('does not throw when nothing listens (no agent), and reports a send failure at most once', async () => {
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
