import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import Redis, { type RedisOptions } from 'ioredis';

/** Finds an executable on `PATH` (Homebrew and other non-Debian installs live outside /usr/bin). */
function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Path of the redis-server binary: `REDIS_SERVER_BIN`, else `/usr/bin/redis-server`, else the one on `PATH`. */
export const REDIS_SERVER_BIN =
  process.env.REDIS_SERVER_BIN ??
  (existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : (findOnPath('redis-server') ?? '/usr/bin/redis-server'));

/** Finds a TCP port that is free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** True when `port` can be listened on at 127.0.0.1 now. */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * The first of `count` consecutive ports free on 127.0.0.1 now, for `npm start`'s INVENTORY_PORT
 * (replica i listens on base + i). Chosen below Linux's ephemeral range (32768–60999): a block
 * next to a {@link freePort} port is where other processes' outgoing connections take theirs.
 */
export async function freePortBlock(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * (12_000 - count));
    let free = true;
    for (let i = 0; i < count && free; i++) free = await canListen(base + i);
    if (free) return base;
  }
  throw new Error(`no block of ${count} free ports found`);
}

/** True when something accepts a TCP connection on 127.0.0.1:`port` now. */
export function acceptsTcp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Options of a private Redis. */
export interface RedisServerOptions {
  /** Data directory; a fresh temp dir (removed on stop) when omitted. */
  dir?: string;
  port?: number;
  /** `always` for fault tests (no acknowledged write lost), `everysec` for speed. */
  appendfsync?: 'always' | 'everysec' | 'no';
  /** Forward redis-server's own output here (default: discarded). */
  onOutput?: (line: string) => void;
  /** Called when the server exits without {@link RedisServer.stop} having been called. */
  onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
  /**
   * Run in its own process group, so a terminal's Ctrl-C reaches only the supervisor, which then
   * stops Redis after the services (`npm start`).
   */
  detached?: boolean;
  /** Start as a replica of the master on this port (127.0.0.1). */
  replicaOf?: number;
  /** More `redis-server` arguments (`--requirepass`, `--user`, TLS settings…), appended last. */
  extraArgs?: string[];
}

/**
 * A private `redis-server` on a free port with AOF on. Never touches another Redis (tests must not
 * FLUSHALL a server they did not start). Restartable on the same port and data directory.
 */
export class RedisServer {
  readonly port: number;
  readonly dir: string;
  private process: ChildProcess | undefined;
  private readonly ownsDir: boolean;

  private constructor(
    port: number,
    dir: string,
    ownsDir: boolean,
    private readonly options: RedisServerOptions,
  ) {
    this.port = port;
    this.dir = dir;
    this.ownsDir = ownsDir;
  }

  /** Starts a server and waits until it answers PING. */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    if (!existsSync(REDIS_SERVER_BIN)) {
      throw new Error(
        `redis-server not found at ${REDIS_SERVER_BIN}; install it (apt-get install -y redis-server) or set REDIS_SERVER_BIN`,
      );
    }
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'eo-redis-'));
    const server = new RedisServer(options.port ?? (await freePort()), dir, options.dir === undefined, options);
    await server.launch();
    return server;
  }

  /** `redis://127.0.0.1:<port>`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** PID of the running server, if any. */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** A new client connected to this server (the caller closes it); `options` add to the defaults. */
  client(options: RedisOptions = {}): Redis {
    return new Redis(this.port, '127.0.0.1', { maxRetriesPerRequest: null, ...options });
  }

  private async launch(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      this.options.appendfsync ?? 'everysec',
      '--daemonize',
      'no',
      '--protected-mode',
      'no',
      '--maxclients',
      '2000',
      ...(this.options.replicaOf === undefined ? [] : ['--replicaof', '127.0.0.1', String(this.options.replicaOf)]),
      ...(this.options.extraArgs ?? []),
    ];
    const child = spawn(REDIS_SERVER_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: this.options.detached ?? false });
    this.process = child;
    child.once('exit', (code, signal) => {
      if (this.process === child) this.options.onExit?.(code, signal);
    });
    const forward = (chunk: Buffer): void => {
      for (const line of chunk.toString().split('\n')) if (line) this.options.onOutput?.(line);
    };
    child.stdout?.on('data', forward);
    child.stderr?.on('data', forward);
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode} (port ${this.port})`);
      // Plain TCP first: an ioredis client disconnected after a refused connect keeps a 2 s timer
      // alive, which holds up the exit of every test process.
      if (!(await acceptsTcp(this.port))) {
        if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not answer within 10 s`);
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const probe = new Redis(this.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        if ((await probe.ping()) === 'PONG') {
          // AOF rewrite/loading must be done before the server counts as up.
          const info = await probe.info('persistence');
          if (/loading:0/.test(info)) return;
        }
      } catch {
        // not up yet
      } finally {
        probe.disconnect();
      }
      if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not answer within 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Makes the next start (see {@link restart}) a replica of the master on `port`, or a master with
   * `undefined`: a node that comes back after a failover rejoins as what Sentinel made it.
   */
  setReplicaOf(port: number | undefined): void {
    this.options.replicaOf = port;
  }

  /** SIGSTOP: the server keeps its sockets open and answers nothing (a paused VM, a long stall). */
  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  /** SIGCONT after {@link pause}. */
  resume(): void {
    this.process?.kill('SIGCONT');
  }

  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. */
  async stop(options: { keepData?: boolean; signal?: NodeJS.Signals } = {}): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill(options.signal ?? 'SIGTERM');
      child.kill('SIGCONT'); // a paused server handles nothing until it runs again
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    if (this.ownsDir && !options.keepData) rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * Stops and starts the server again on the same port and data directory (AOF replays). `signal`
   * SIGKILL makes it a crash rather than a clean shutdown.
   */
  async restart(downtimeMs = 0, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.stop({ keepData: true, signal });
    if (downtimeMs > 0) await new Promise((r) => setTimeout(r, downtimeMs));
    await this.launch();
  }
}

/**
 * How many read events Redis needed for what `send` sent, from `INFO stats` read through `observer`
 * (a connection of its own, idle otherwise): 1 means it all arrived in one write.
 */
export async function readsDuring(observer: Redis, send: () => Promise<unknown>): Promise<number> {
  const readsProcessed = async () => Number(/total_reads_processed:(\d+)/.exec(await observer.info('stats'))?.[1]);
  const before = await readsProcessed();
  await send();
  // Less one: the read of the second INFO itself.
  return (await readsProcessed()) - before - 1;
}
