import { spawn, type ChildProcess, execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { acceptsTcp, delay, freePort, freePortBlock, RedisServer, repoRoot, serviceEntry, SystemHarness } from '@eo/local';

/** True while `pid` runs. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const root = repoRoot();

/** Pids of live processes whose environment holds `MARKER=<marker>` (everything a run started). */
function markedProcesses(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(`STOPS_TEST_MARKER=${marker}`)) found.push(Number(entry));
    } catch {
      // gone, or not ours
    }
  }
  return found;
}

function exited(child: ChildProcess, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pid ${child.pid} still running after ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

/** `npm start` (its built entry) on free ports and its own data folder, output collected. */
class Start {
  readonly child: ChildProcess;
  output = '';
  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, [join(root, 'tools/dist/start.js')], {
      env: { ...process.env, INVENTORY_REPLICAS: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
  }

  static async launch(dataDir: string, marker: string, extra: Record<string, string> = {}): Promise<Start> {
    return new Start({
      LOCAL_DATA_DIR: dataDir,
      STOPS_TEST_MARKER: marker,
      ORDER_PORT: String(await freePort()),
      INVENTORY_PORT: String(await freePortBlock(3)),
      ...extra,
    });
  }

  async until(text: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.output.includes(text)) {
      if (Date.now() > deadline || this.child.exitCode !== null)
        throw new Error(`no "${text}" from npm start:\n${this.output.slice(-3000)}`);
      await delay(100);
    }
  }
}

describe('clean stops', () => {
  let dataDir: string;
  const marker = randomUUID();

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'eo-stops-'));
  });
  afterAll(() => {
    // A test that failed half-way may have left a system running (redis-server through its pid file).
    for (const pid of markedProcesses(marker)) process.kill(pid, 'SIGKILL');
    const redisPid = existsSync(join(dataDir, 'redis.pid')) ? Number(readFileSync(join(dataDir, 'redis.pid'), 'utf8')) : 0;
    if (redisPid > 0 && alive(redisPid)) process.kill(redisPid, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a service whose stdout pipe was closed still exits 0 on SIGTERM, within its deadline', async () => {
    const redis = await RedisServer.start();
    try {
      const service = spawn(process.execPath, [serviceEntry('inventory', root)], {
        env: { ...process.env, REDIS_URL: redis.url, PORT: String(await freePort()), LOG_LEVEL: 'debug', SHUTDOWN_TIMEOUT_MS: '2000' },
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      // `| head -3`: three lines read, then the reading end closes.
      const lines = createInterface({ input: service.stdout });
      let seen = 0;
      await new Promise<void>((resolve) => lines.on('line', () => ++seen === 3 && resolve()));
      lines.close();
      service.stdout.destroy();
      await delay(1500); // it goes on logging into the closed pipe (EPIPE)
      const signalledAt = Date.now();
      service.kill('SIGTERM');
      expect(await exited(service, 20_000)).toEqual({ code: 0, signal: null });
      // Its forced exit would come SHUTDOWN_TIMEOUT_MS + 5 s after the signal.
      expect(Date.now() - signalledAt).toBeLessThan(7000);
    } finally {
      await redis.stop();
    }
  }, 40_000);

  it('a service takes a second SIGTERM within a second as the same request, and a later one as "exit now"', async () => {
    const system = await SystemHarness.start({
      replicas: 2,
      inventoryEnv: { INVENTORY_WORK_DELAY_MS: '3000', SHUTDOWN_TIMEOUT_MS: '20000' },
    });
    try {
      const sku = SystemHarness.uniqueId('STOP');
      await system.seedStock(sku, 10);
      const [patient, impatient] = system.inventory;
      const accepted: string[] = [];
      const holders = async (): Promise<Set<string>> => {
        const tokens = await Promise.all(accepted.map((id) => system.redis.get(system.keys.lock(id))));
        return new Set(tokens.filter((t): t is string => t !== null).map((t) => t.slice(0, t.lastIndexOf(':'))));
      };
      // Each replica in the middle of 3 s of work on an order of its own. Which replica wins a claim
      // is a race, so the other one is frozen while each order is placed and claimed.
      for (const [worker, frozen] of [
        [patient, impatient],
        [impatient, patient],
      ]) {
        frozen.pause();
        try {
          accepted.push(...(await system.placeOrders([[{ sku, quantity: 1 }]])).accepted);
          for (let i = 0; i < 50 && !(await holders()).has(worker.name); i++) await delay(100);
        } finally {
          frozen.resume();
        }
      }
      expect(await holders()).toEqual(new Set([patient.name, impatient.name]));
      process.kill(patient.pid!, 'SIGTERM');
      process.kill(patient.pid!, 'SIGTERM');
      process.kill(impatient.pid!, 'SIGTERM');
      await delay(1500);
      process.kill(impatient.pid!, 'SIGTERM');
      expect(await impatient.exited).toMatchObject({ code: 1 });
      expect(impatient.logs.some((l) => l.event === 'service.stopping' && l.stage === 'forced')).toBe(true);
      expect(await patient.exited).toMatchObject({ code: 0 });
      expect(patient.logs.some((l) => l.event === 'service.stopping' && l.stage === 'closed')).toBe(true);
      // The abandoned order is still on the backlog for a replica to come.
      await system.startInventory(1);
      await system.waitForQuiet(accepted, { timeoutMs: 30_000 });
    } finally {
      await system.stop();
    }
  }, 90_000);

  it('npm start piped into a process that dies stops everything it started, and can start again on the same data', async () => {
    const start = await Start.launch(dataDir, marker);
    await start.until('Ready:');
    // redis-server rewrites its own environment for its process title: found by its port instead.
    expect(markedProcesses(marker)).toHaveLength(3); // npm start itself, order, inventory-0
    const redisPort = Number(/started redis-server on redis:\/\/127\.0\.0\.1:(\d+)/.exec(start.output)?.[1]);
    expect(await acceptsTcp(redisPort)).toBe(true);
    // `npm start | tee run.log`, and tee dies: the next line it prints meets a closed pipe.
    start.child.stdout!.destroy();
    start.child.stderr!.destroy();
    start.child.kill('SIGINT');
    expect(await exited(start.child, 40_000)).toEqual({ code: 0, signal: null });
    expect(markedProcesses(marker)).toEqual([]);
    expect(await acceptsTcp(redisPort)).toBe(false);
    expect(existsSync(join(dataDir, 'redis.pid'))).toBe(false);

    const again = await Start.launch(dataDir, marker);
    await again.until('Ready:');
    again.child.kill('SIGINT');
    expect(await exited(again.child, 40_000)).toEqual({ code: 0, signal: null });
  }, 120_000);

  it('Ctrl-C in npm run demo stops the system it started: no replica, no redis-server, no temp folder left', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'eo-demo-tmp-'));
    const output: string[] = [];
    const demo = spawn(process.execPath, [join(root, 'tools/dist/demo.js')], {
      // No system answers there: the demo starts its own, its redis-server's folder under TMPDIR.
      env: {
        ...process.env,
        ORDER_URL: `http://127.0.0.1:${await freePort()}`,
        TMPDIR: tmp,
        STOPS_TEST_MARKER: marker,
        DEMO_ORDERS: '200000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    demo.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const deadline = Date.now() + 60_000;
    while (!output.join('').includes('Seeded')) {
      if (Date.now() > deadline || demo.exitCode !== null) throw new Error(`demo did not start:\n${output.join('')}`);
      await delay(100);
    }
    const redisDirs = readdirSync(tmp).filter((name) => name.startsWith('eo-redis-'));
    expect(redisDirs).toHaveLength(1);
    demo.kill('SIGINT');
    expect(await exited(demo, 30_000)).toEqual({ code: 130, signal: null });
    expect(markedProcesses(marker)).toEqual([]);
    expect(readdirSync(tmp).filter((name) => name.startsWith('eo-redis-'))).toEqual([]);
    rmSync(tmp, { recursive: true, force: true });
  }, 90_000);

  it('npm start takes more Ctrl-Cs within a second as one clean stop, up to its very exit', async () => {
    const start = await Start.launch(dataDir, marker);
    await start.until('Ready:');
    start.child.kill('SIGINT');
    // Again every 10 ms for 800 ms, or until it exits: one lands while it exits (the stop takes
    // ~200 ms), when a process left to exit on its own would die by the signal's default action.
    const gone = exited(start.child, 40_000);
    for (const until = Date.now() + 800; Date.now() < until && start.child.exitCode === null; await delay(10)) start.child.kill('SIGINT');
    expect(await gone).toEqual({ code: 0, signal: null });
    expect(start.output).toContain('stopped');
    expect(start.output).not.toContain('killing everything');
    expect(markedProcesses(marker)).toEqual([]);
  }, 90_000);

  it('npm start refuses a data folder whose redis-server an earlier, killed npm start left running; npm run reset clears it', async () => {
    const killed = await Start.launch(dataDir, marker);
    await killed.until('Ready:');
    killed.child.kill('SIGKILL'); // nothing of it can stop its children now
    await exited(killed.child, 10_000);
    expect(markedProcesses(marker)).toHaveLength(2); // order and inventory-0
    const redisPid = Number(readFileSync(join(dataDir, 'redis.pid'), 'utf8'));
    expect(alive(redisPid)).toBe(true);

    const refused = await Start.launch(dataDir, marker);
    expect(await exited(refused.child, 30_000)).toMatchObject({ code: 1 });
    expect(refused.output).toMatch(/a redis-server \(pid \d+\) left by an earlier npm start still uses .*redis/);
    expect(refused.output).toContain('npm run reset');

    const reset = await promisify(execFile)(process.execPath, [join(root, 'tools/dist/reset.js')], {
      env: { ...process.env, LOCAL_DATA_DIR: dataDir },
    });
    expect(reset.stdout).toMatch(/stopping .*redis-server/);
    expect(markedProcesses(marker)).toEqual([]);
    expect(alive(redisPid)).toBe(false);
    expect(existsSync(join(dataDir, 'redis'))).toBe(false);

    const fresh = await Start.launch(dataDir, marker);
    await fresh.until('Ready:');
    fresh.child.kill('SIGINT');
    expect(await exited(fresh.child, 40_000)).toEqual({ code: 0, signal: null });
  }, 150_000);
});
