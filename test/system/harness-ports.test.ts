import { createServer } from 'node:http';
import { freePort, SystemHarness } from '@eo/local';

describe('the system harness on a busy machine', () => {
  it('moves a service whose free port was taken before it could listen, without counting a crash', async () => {
    // The first port handed out (the order service's) is taken meanwhile by a process that even
    // answers /health/ready, as another test file's service or an outgoing connection can.
    const taken = await freePort();
    const impostor = createServer((_req, res) => res.end('{}'));
    await new Promise<void>((resolve) => impostor.listen(taken, '127.0.0.1', resolve));
    const picked: number[] = [];
    let sys: SystemHarness | undefined;
    try {
      sys = await SystemHarness.start({
        replicas: 1,
        pickPort: async () => {
          const port = picked.length === 0 ? taken : await freePort();
          picked.push(port);
          return port;
        },
      });
      expect(sys.order.port).not.toBe(taken);
      expect(picked).toContain(sys.order.port);
      expect(sys.crashes).toEqual([]);
      // The order service that answers is the harness's own, second run.
      expect(sys.order.eventCounts.get('service.started')).toBe(1);
      const placed = await sys.placeOrder([{ sku: SystemHarness.uniqueId('port'), quantity: 1 }]);
      expect(placed.status).toBe(202);
    } finally {
      await sys?.stop();
      await new Promise<void>((resolve) => impostor.close(() => resolve()));
    }
  }, 60_000);
});
