import { delay, freePort, SystemHarness } from '@eo/local';
import { FakeAgent } from './fake-agent';

describe('dd-trace without a Datadog agent', () => {
  let system: SystemHarness | undefined;
  afterEach(async () => {
    await system?.stop();
    system = undefined;
  });

  it('keeps working and prints nothing but JSON log lines, still with trace ids', async () => {
    const closedPort = String(await freePort());
    system = await SystemHarness.start({
      replicas: 1,
      env: { DD_AGENT_HOST: '127.0.0.1', DD_TRACE_AGENT_PORT: closedPort, DD_DOGSTATSD_PORT: closedPort, DD_TRACE_FLUSH_INTERVAL: '100' },
    });
    const sku = SystemHarness.uniqueId('quiet');
    await system.seedStock(sku, 5);
    const placed = await system.placeOrder([{ sku, quantity: 1 }]);
    expect((await system.getOrder(placed.orderId!, 5000)).body.status).toBe('RESERVED');
    await delay(1000); // ten failed flushes to the missing agent
    for (const service of system.processes) expect(service.rawLines).toEqual([]);
    const processed = await system.waitForLog((l) => l.event === 'order.processed' && l.orderId === placed.orderId);
    expect((processed.dd as { trace_id?: string } | undefined)?.trace_id).toMatch(/^[0-9a-f]{32}$/);
  }, 60_000);

  it('with DD_TRACE_ENABLED=false sends no spans and adds no dd fields, but still sends the metrics', async () => {
    // dd-trace's own DogStatsD client is a no-op when tracing is off; the services' metrics must not be.
    const agent = await FakeAgent.start();
    try {
      system = await SystemHarness.start({ replicas: 1, env: { ...agent.env(), DD_TRACE_ENABLED: 'false' } });
      const sku = SystemHarness.uniqueId('off');
      await system.seedStock(sku, 5);
      const placed = await system.placeOrder([{ sku, quantity: 1 }]);
      expect((await system.getOrder(placed.orderId!, 5000)).body.status).toBe('RESERVED');
      const processed = await system.waitForLog((l) => l.event === 'order.processed' && l.orderId === placed.orderId);
      expect(processed.dd).toBeUndefined();
      for (const service of system.processes) expect(service.rawLines).toEqual([]);

      await Promise.all(system.processes.map((p) => p.stop())); // a clean stop flushes the metrics
      const names = new Set(agent.points.map((p) => p.name));
      expect(names).toContain('orders.accepted');
      expect(names).toContain('orders.processed');
      expect(agent.points.find((p) => p.name === 'orders.processed')?.tags).toMatchObject({
        service: 'inventory',
        env: 'test',
        outcome: 'reserved',
      });
      // The processed order's distributions, sent packed by the services' own client.
      for (const name of ['orders.lock_wait', 'orders.processing.duration', 'orders.end_to_end']) {
        const points = agent.points.filter((p) => p.name === name);
        expect({ name, count: points.length, type: points[0]?.type }).toEqual({ name, count: 1, type: 'd' });
        expect(points[0].value).toBeGreaterThanOrEqual(0);
        expect(points[0].tags).toMatchObject({ service: 'inventory', env: 'test' });
      }
      expect(agent.spans).toEqual([]);
    } finally {
      await agent.stop();
    }
  }, 60_000);
});
