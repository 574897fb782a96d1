import { delay, freePort, SystemHarness } from '@eo/testing';

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

  it('adds no dd fields when DD_TRACE_ENABLED=false', async () => {
    system = await SystemHarness.start({ replicas: 1, env: { DD_TRACE_ENABLED: 'false' } });
    const sku = SystemHarness.uniqueId('off');
    await system.seedStock(sku, 5);
    const placed = await system.placeOrder([{ sku, quantity: 1 }]);
    expect((await system.getOrder(placed.orderId!, 5000)).body.status).toBe('RESERVED');
    const processed = await system.waitForLog((l) => l.event === 'order.processed' && l.orderId === placed.orderId);
    expect(processed.dd).toBeUndefined();
    for (const service of system.processes) expect(service.rawLines).toEqual([]);
  }, 60_000);
});
