import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { acceptsTcp, delay, freePort, freePortBlock, repoRoot } from '@eo/local';

const root = repoRoot();

describe('REDIS_TOPOLOGY=sentinel npm start, then npm run demo -- --failover against it', () => {
  let start: ChildProcess | undefined;
  let output = '';

  afterAll(() => {
    if (start?.exitCode === null) start.kill('SIGKILL');
  });

  it('survives the paused master with 0 lost and no drift, and Ctrl-C stops every process it started', async () => {
    const orderPort = await freePort();
    const inventoryPort = await freePortBlock(2);
    start = spawn(process.execPath, [join(root, 'tools/dist/start.js')], {
      env: {
        ...process.env,
        REDIS_TOPOLOGY: 'sentinel',
        ORDER_PORT: String(orderPort),
        INVENTORY_PORT: String(inventoryPort),
        INVENTORY_REPLICAS: '2',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    start.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    start.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 60_000;
    while (!output.includes('Ready:')) {
      if (Date.now() > deadline || start.exitCode !== null) throw new Error(`npm start did not get ready:\n${output.slice(-3000)}`);
      await delay(100);
    }
    const [, masterPort, replicaPort] = /master redis:\/\/127\.0\.0\.1:(\d+), replica redis:\/\/127\.0\.0\.1:(\d+)/.exec(output) ?? [];
    expect(masterPort).toBeDefined();

    const demo = await promisify(execFile)(process.execPath, [join(root, 'tools/dist/demo.js'), '--failover'], {
      env: { ...process.env, ORDER_URL: `http://127.0.0.1:${orderPort}`, DEMO_ORDERS: '600' },
      timeout: 150_000,
    });
    expect(demo.stdout).toMatch(/failover: paused the master 127\.0\.0\.1:\d+/);
    expect(demo.stdout).toMatch(/failover: the Sentinels promoted 127\.0\.0\.1:\d+/);
    expect(demo.stdout).toMatch(/Placed 600 orders .*: 600 accepted/);
    expect(demo.stdout).toMatch(/^ {2}lost +0$/m);
    expect(demo.stdout).toMatch(/^ {2}stock drift +0$/m);
    expect(demo.stdout).toMatch(/reserved = Σ RESERVED quantities: yes/);
    expect(demo.stdout).toContain('OK: no violation');

    start.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => start!.once('exit', (c) => resolve(c)));
    expect(code).toBe(0);
    expect(output).toContain('stopping the Sentinels and their Redis nodes');
    for (const port of [masterPort, replicaPort, orderPort, inventoryPort]) expect(await acceptsTcp(Number(port))).toBe(false);
  }, 200_000);
});
