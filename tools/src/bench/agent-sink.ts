import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in Datadog agent on a free local port: takes dd-trace's payloads and drops them, and
 * answers `/info` like an agent. Without one, dd-trace's exports fail and the benchmarks would
 * measure a path production never takes.
 */
export async function startAgentSink(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url === '/info' ? '{"endpoints":["/v0.4/traces"]}' : '{"rate_by_service":{}}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}
