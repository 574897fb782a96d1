import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { delay } from './http';
import { freePort, REDIS_SERVER_BIN, RedisServer } from './redis-server';

/** Options of a {@link SentinelTopology}. */
export interface SentinelTopologyOptions {
  /** Sentinel's name for the master (default `eo-master`). */
  masterName?: string;
  /** Data nodes besides the master, each a replica of it (default 1). */
  replicas?: number;
  /** Sentinel processes (default 3, quorum 2). */
  sentinels?: number;
  /**
   * `down-after-milliseconds` (default 2000: at 1000, Sentinel's own ping period, it may fail over
   * twice in a row).
   */
  downAfterMs?: number;
  /** `failover-timeout` (default 10000). */
  failoverTimeoutMs?: number;
  /** Forward every process's output here, prefixed with its role and port. */
  onOutput?: (line: string) => void;
  /** More `redis-server` arguments for every data node. */
  nodeArgs?: string[];
  /**
   * Each Sentinel's config file, instead of the one built from the options above (e.g. a deployment's
   * own file with its host names replaced by these ports).
   */
  sentinelConfig?: (sentinelPort: number, masterPort: number) => string;
  /** Run every process in its own process group, as `RedisServerOptions.detached` does for one. */
  detached?: boolean;
}

/** One `redis-server --sentinel` process with its own config file (Sentinel rewrites it). */
class SentinelProcess {
  private child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly onOutput?: (line: string) => void,
    private readonly detached = false,
  ) {}

  start(config: string): void {
    const file = join(this.dir, `sentinel-${this.port}.conf`);
    writeFileSync(file, config);
    const child = spawn(REDIS_SERVER_BIN, [file, '--sentinel'], { stdio: ['ignore', 'pipe', 'pipe'], detached: this.detached });
    const forward = (chunk: Buffer): void => {
      for (const line of chunk.toString().split('\n')) if (line) this.onOutput?.(`sentinel:${this.port} ${line}`);
    };
    child.stdout?.on('data', forward);
    child.stderr?.on('data', forward);
    this.child = child;
  }

  client(): Redis {
    return new Redis(this.port, '127.0.0.1', { maxRetriesPerRequest: 1, retryStrategy: () => null, lazyConnect: true });
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }
}

/**
 * A Redis high-availability topology on this machine, all real processes: a master, its replicas
 * and a quorum of Sentinels watching them. For failover tests: pause, kill or switch over the master
 * and see who Sentinel promotes.
 */
export class SentinelTopology {
  readonly masterName: string;
  private readonly sentinelProcesses: SentinelProcess[] = [];

  private constructor(
    /** Every data node, the initial master first. */
    readonly nodes: RedisServer[],
    private readonly dir: string,
    private readonly options: SentinelTopologyOptions,
  ) {
    this.masterName = options.masterName ?? 'eo-master';
  }

  /** Starts the data nodes and the Sentinels, and waits until every Sentinel sees all of them. */
  static async start(options: SentinelTopologyOptions = {}): Promise<SentinelTopology> {
    const output = options.onOutput;
    // A node that rejoins as a replica syncs at once, instead of after Redis's default 5 s wait for
    // more replicas to share the transfer (see the README's high-availability settings).
    const extraArgs = ['--repl-diskless-sync-delay', '0', ...(options.nodeArgs ?? [])];
    const detached = options.detached;
    const master = await RedisServer.start({
      appendfsync: 'always',
      extraArgs,
      detached,
      onOutput: output && ((l) => output(`redis ${l}`)),
    });
    const nodes = [master];
    const dir = mkdtempSync(join(tmpdir(), 'eo-sentinel-'));
    const topology = new SentinelTopology(nodes, dir, options);
    try {
      for (let i = 0; i < (options.replicas ?? 1); i++) {
        nodes.push(
          await RedisServer.start({
            appendfsync: 'always',
            replicaOf: master.port,
            extraArgs,
            detached,
            onOutput: output && ((l) => output(`redis ${l}`)),
          }),
        );
      }
      await topology.waitForReplicas(master, nodes.length - 1);
      const count = options.sentinels ?? 3;
      for (let i = 0; i < count; i++) {
        const sentinel = new SentinelProcess(await freePort(), dir, output, options.detached);
        topology.sentinelProcesses.push(sentinel);
        sentinel.start(
          options.sentinelConfig?.(sentinel.port, master.port) ??
            topology.sentinelConfig(sentinel.port, master.port, Math.floor(count / 2) + 1),
        );
      }
      await topology.waitUntilSettled(master);
    } catch (error) {
      await topology.stop();
      throw error;
    }
    return topology;
  }

  private sentinelConfig(port: number, masterPort: number, quorum: number): string {
    return [
      `port ${port}`,
      'bind 127.0.0.1',
      'daemonize no',
      'protected-mode no',
      `dir ${this.dir}`,
      `sentinel monitor ${this.masterName} 127.0.0.1 ${masterPort} ${quorum}`,
      `sentinel down-after-milliseconds ${this.masterName} ${this.options.downAfterMs ?? 2000}`,
      `sentinel failover-timeout ${this.masterName} ${this.options.failoverTimeoutMs ?? 10_000}`,
      `sentinel parallel-syncs ${this.masterName} 1`,
      '',
    ].join('\n');
  }

  /** `redis+sentinel://…/<masterName>`: what the services take as `REDIS_URL`. */
  get url(): string {
    return `redis+sentinel://${this.sentinelProcesses.map((s) => `127.0.0.1:${s.port}`).join(',')}/${this.masterName}`;
  }

  /** Runs `command` on the first Sentinel that answers. */
  async sentinelCall(...command: string[]): Promise<unknown> {
    let lastError: unknown;
    for (const sentinel of this.sentinelProcesses) {
      const client = sentinel.client();
      client.on('error', () => undefined);
      try {
        await client.connect();
        return await client.call(command[0], ...command.slice(1));
      } catch (error) {
        lastError = error;
      } finally {
        client.disconnect();
      }
    }
    throw lastError instanceof Error ? lastError : new Error('no Sentinel answered');
  }

  /** The data node the Sentinels name as master now. */
  async master(): Promise<RedisServer> {
    const [, port] = (await this.sentinelCall('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.masterName)) as [string, string];
    const node = this.nodes.find((n) => n.port === Number(port));
    if (!node) throw new Error(`Sentinel names an unknown master on port ${port}`);
    return node;
  }

  /**
   * Waits until the Sentinels name a master other than `old`, it says so itself (`role:master`),
   * and every Sentinel agrees; resolves with it.
   */
  async waitForNewMaster(old: RedisServer, timeoutMs = 30_000): Promise<RedisServer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const ports = await Promise.all(this.sentinelProcesses.map((s) => this.masterPortSeenBy(s)));
        const candidate = this.nodes.find((n) => n.port === ports[0]);
        if (candidate && candidate !== old && ports.every((p) => p === ports[0]) && (await this.role(candidate)) === 'master')
          return candidate;
      } catch {
        // a Sentinel or node not answering yet
      }
      if (Date.now() > deadline) throw new Error(`no new master within ${timeoutMs} ms`);
      await delay(100);
    }
  }

  /** `SENTINEL FAILOVER`: a planned switchover to a replica. */
  async failover(): Promise<void> {
    await this.sentinelCall('SENTINEL', 'FAILOVER', this.masterName);
  }

  /** Waits until `master` has `count` replicas online (they finished their sync). */
  async waitForReplicas(master: RedisServer, count: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const info = await this.info(master, 'replication');
        const online = [...info.matchAll(/^slave\d+:.*state=online/gm)].length;
        if (/^role:master/m.test(info) && online >= count) return;
      } catch {
        // not answering yet
      }
      if (Date.now() > deadline) throw new Error(`master on ${master.port} has not ${count} replica(s) online within ${timeoutMs} ms`);
      await delay(100);
    }
  }

  /** `role:` of a data node's `INFO replication`. */
  async role(node: RedisServer): Promise<string | undefined> {
    return /^role:(\w+)/m.exec(await this.info(node, 'replication'))?.[1];
  }

  private async info(node: RedisServer, section: string): Promise<string> {
    const client = node.client({
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 1000,
      commandTimeout: 1000,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return await client.info(section);
    } finally {
      client.disconnect();
    }
  }

  private async masterPortSeenBy(sentinel: SentinelProcess): Promise<number> {
    const client = sentinel.client();
    client.on('error', () => undefined);
    try {
      await client.connect();
      const [, port] = (await client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.masterName)) as [string, string];
      return Number(port);
    } finally {
      client.disconnect();
    }
  }

  /** Until every Sentinel knows the master, all its replicas and all other Sentinels (a failover needs them). */
  private async waitUntilSettled(master: RedisServer, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const others = this.sentinelProcesses.length - 1;
    for (const sentinel of this.sentinelProcesses) {
      for (;;) {
        const client = sentinel.client();
        client.on('error', () => undefined);
        try {
          await client.connect();
          const fields = (await client.call('SENTINEL', 'MASTER', this.masterName)) as string[];
          const field = (name: string) => fields[fields.indexOf(name) + 1];
          if (
            Number(field('port')) === master.port &&
            Number(field('num-slaves')) >= this.nodes.length - 1 &&
            Number(field('num-other-sentinels')) >= others
          ) {
            break;
          }
        } catch {
          // not up yet
        } finally {
          client.disconnect();
        }
        if (Date.now() > deadline) throw new Error(`Sentinel on ${sentinel.port} did not see the whole topology within ${timeoutMs} ms`);
        await delay(100);
      }
    }
  }

  /** Stops the Sentinels, then every data node (paused ones too), and removes the files. */
  async stop(): Promise<void> {
    await Promise.all(this.sentinelProcesses.map((s) => s.stop()));
    await Promise.all(this.nodes.map((n) => n.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
