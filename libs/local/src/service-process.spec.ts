import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answers } from './http';
import { freePort } from './redis-server';
import { ServiceProcess, type ExitResult } from './service-process';

// A stand-in service: JSON lines on stdout, a non-JSON line on stderr, /health/ready, and a
// SIGTERM handler that exits 0 (or EXIT_CODE at once when set, to play a crash).
const FAKE_SERVICE = `
const http = require('node:http');
const log = (fields) => process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level: 'info', replica: process.env.REPLICA_NAME, ...fields }) + '\\n');
if (process.env.EXIT_CODE) process.exit(Number(process.env.EXIT_CODE));
let ticks = 0;
const server = http.createServer((req, res) => {
  res.statusCode = req.url === '/health/ready' ? 200 : 404;
  res.end('{}');
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => {
  log({ event: 'service.started', msg: 'up' });
  process.stderr.write('a plain warning line\\n');
});
setInterval(() => log({ event: 'tick', n: ++ticks }), 20);
process.on('SIGTERM', () => {
  log({ event: 'service.stopping', msg: 'bye' });
  server.close(() => process.exit(0));
});
`;

let dir: string;
let entry: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'eo-fake-service-'));
  entry = join(dir, 'main.js');
  writeFileSync(entry, FAKE_SERVICE);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function startFake(env: Record<string, string> = {}): Promise<ServiceProcess> {
  return ServiceProcess.start({ name: 'fake', entry, port: await freePort(), env: { REPLICA_NAME: 'fake-0', ...env } });
}

describe('ServiceProcess', () => {
  it('parses JSON lines into logs, keeps other lines apart and waits for readiness and for a line', async () => {
    const seen: string[] = [];
    const service = ServiceProcess.start({ name: 'fake', entry, port: await freePort(), onLine: (line) => seen.push(line) });
    try {
      await service.waitForReady(10_000);
      const tick = await service.waitForLog((line) => line.event === 'tick' && line.n === 3, 5000);
      expect(tick).toMatchObject({ event: 'tick', n: 3 });
      await service.waitForLog((line) => line.event === 'service.started');
      expect(service.rawLines.map((line) => [line.stream, line.text])).toContainEqual(['stderr', 'a plain warning line']);
      expect(service.logs.every((line) => typeof line.event === 'string')).toBe(true);
      expect(seen).toContain('a plain warning line');
    } finally {
      await service.stop();
    }
  });

  it('does not take an answer from another process on its port for its own readiness, and can move to another port', async () => {
    // Another process holds the port and even answers /health/ready, as a second service handed the
    // same free port would: the fake cannot listen, and exits with EADDRINUSE.
    const port = await freePort();
    const impostor = createServer((_req, res) => res.end('{}'));
    await new Promise<void>((resolve) => impostor.listen(port, '127.0.0.1', resolve));
    const service = ServiceProcess.start({ name: 'late', entry, port });
    try {
      await expect(service.waitForReady(10_000)).rejects.toThrow(/late exited before becoming ready/);
      await service.exited;
      expect(service.lostItsPort).toBe(true);
      expect(() => service.usePort(port)).not.toThrow();

      service.usePort(await freePort());
      service.start();
      expect(() => service.usePort(port)).toThrow(/stop it before moving it/);
      await service.waitForReady(10_000);
      expect(service.startedThisRun).toBe(true);
      expect(service.lostItsPort).toBe(false);
      expect(service.port).not.toBe(port);
      expect(await answers(`${service.url}/health/ready`, 1000)).toBe(true);
    } finally {
      await service.stop();
      await new Promise<void>((resolve) => impostor.close(() => resolve()));
    }
  });

  it('stops with SIGTERM (exit 0, expected) and restarts on the same port, keeping earlier logs', async () => {
    const service = await startFake();
    await service.waitForReady();
    expect(await service.stop()).toEqual<ExitResult>({ code: 0, signal: null, expected: true });
    expect(service.events('service.stopping')).toHaveLength(1);
    expect(await answers(`${service.url}/health/ready`, 300)).toBe(false);

    await service.restart();
    expect(service.running).toBe(true);
    expect(service.events('service.started')).toHaveLength(2);
    expect((await service.kill('SIGKILL')).signal).toBe('SIGKILL');
  });

  it('freezes with pause() and thaws with resume()', async () => {
    const service = await startFake();
    try {
      await service.waitForReady();
      service.pause();
      await new Promise((r) => setTimeout(r, 100));
      const frozenAt = service.logs.length;
      expect(await answers(`${service.url}/health/ready`, 300)).toBe(false);
      expect(service.logs.length).toBe(frozenAt);
      service.resume();
      await service.waitForLog(() => true, 5000, frozenAt);
      expect(await answers(`${service.url}/health/ready`, 2000)).toBe(true);
    } finally {
      await service.kill('SIGKILL');
    }
  });

  it('with keepLogs keeps only the listed events and fields, and counts every event', async () => {
    const service = ServiceProcess.start({
      name: 'fake',
      entry,
      port: await freePort(),
      env: { REPLICA_NAME: 'fake-0' },
      keepLogs: { events: ['service.started', 'service.stopping'], fields: ['event', 'replica'] },
    });
    await service.waitForReady();
    await service.waitForLog((line) => line.event === 'service.started');
    await new Promise((r) => setTimeout(r, 100));
    await service.stop();
    expect(service.logs).toEqual([
      { event: 'service.started', replica: 'fake-0' },
      { event: 'service.stopping', replica: 'fake-0' },
    ]);
    expect(service.eventCounts.get('tick')).toBeGreaterThan(0);
    expect(service.eventCounts.get('service.started')).toBe(1);
    expect(service.rawLines.map((line) => line.text)).toContain('a plain warning line');
    expect(service.tail(3)).toContain('service.stopping');
  });

  it('reports a crash as an unexpected exit and fails waitForReady with the output', async () => {
    const exits: ExitResult[] = [];
    const service = ServiceProcess.start({
      name: 'crashy',
      entry,
      port: await freePort(),
      env: { EXIT_CODE: '3' },
      onExit: (r) => exits.push(r),
    });
    await expect(service.waitForReady(5000)).rejects.toThrow(/crashy exited before becoming ready/);
    expect(await service.exited).toEqual<ExitResult>({ code: 3, signal: null, expected: false });
    expect(exits).toEqual([{ code: 3, signal: null, expected: false }]);
  });
});
