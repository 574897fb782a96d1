import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { isTerminal, LogEvent, OrderStatus, OrderStore, RedisKeys, type OrderItem, type OrderView } from '@eo/contract';
import { createRedis } from '@eo/platform';
import { ScriptClient } from '@eo/exactly-once';
import { StockScripts } from '@eo/inventory/scripts';

export type { OrderView } from '@eo/contract';
import { delay, mapLimit, requestJson, type HttpReply } from './http';
import { repoRoot, serviceEntry } from './paths';
import { freePort, RedisServer } from './redis-server';
import { ServiceProcess, type ExitResult, type LogLine, type LogRetention } from './service-process';

type EnvVars = Record<string, string | undefined>;

/** How to start a whole system. */
export interface SystemOptions {
  /** Use this Redis (never flushed); by default a private {@link RedisServer} is started and owned. */
  redisUrl?: string;
  /** Use this already started private Redis (not stopped by {@link SystemHarness.stop}). */
  redisServer?: RedisServer;
  /** `REDIS_NAMESPACE` for every service and for the harness's own keys. */
  namespace?: string;
  /** Inventory replicas started with the system (default 3; 0 runs the order service alone). */
  replicas?: number;
  /** Environment for every service (on top of the harness defaults). */
  env?: EnvVars;
  /** Extra environment for the order service. */
  orderEnv?: EnvVars;
  /** Extra environment for every inventory replica. */
  inventoryEnv?: EnvVars;
  /** Receives every output line of every service, with the service's name. */
  onLine?: (name: string, line: string, stream: 'stdout' | 'stderr') => void;
  /** Told when a service exits without having been asked to. */
  onUnexpectedExit?: (name: string, result: ExitResult) => void;
  /** Node options for every service process, before its entry file (e.g. `--cpu-prof`). */
  nodeArgs?: (name: string) => string[];
  /** Run services in their own process groups (see {@link ServiceProcessOptions.detached}). */
  detached?: boolean;
  /** Per-service readiness deadline (default 30 s). */
  readyTimeoutMs?: number;
  /** Fixed ports instead of free ones: order's, and the first inventory replica's (the rest follow). */
  ports?: { order: number; inventory: number };
  /** How a free port is picked for each service without fixed `ports` (default {@link freePort}). */
  pickPort?: () => Promise<number>;
  /** Keep only some JSON lines of every service in memory (long benchmarks); default every line. */
  keepLogs?: LogRetention;
  /** Aborting it while {@link SystemHarness.start} waits stops what was started and rejects. */
  signal?: AbortSignal;
}

/** Options of {@link SystemHarness.placeOrder}. */
export interface PlaceOrderOptions {
  orderId?: string;
  idempotencyKey?: string;
  /** Per-request deadline (default 30 s: generous, the test machines are shared and noisy). */
  timeoutMs?: number;
}

/** What POST /orders answered; `orderId` is set on a 202. */
export interface PlacedOrder {
  status: number;
  orderId?: string;
  body: unknown;
}

/**
 * A whole system on this machine: a Redis (private unless given), the order service and N
 * inventory replicas as real processes, with seeders, an order builder and a quiescence wait.
 */
export class SystemHarness {
  /** A command connection for seeding and checks (closed by {@link stop}). */
  readonly redis: Redis;
  readonly keys: RedisKeys;
  /** Reads orders and stock over {@link redis}. */
  readonly store: OrderStore;
  readonly order: ServiceProcess;
  readonly inventory: ServiceProcess[] = [];
  private readonly stock: StockScripts;
  private readonly root = repoRoot();
  /** Services that exited without being asked to, in order (a test usually expects none). */
  readonly crashes: Array<{ name: string; result: ExitResult }> = [];
  private nextInventoryPort: number | undefined;
  private stopped = false;
  /** Services being started on a port the harness picked free; see {@link untilReady}. */
  private readonly startingOnFreePort = new Set<ServiceProcess>();

  private constructor(
    readonly redisUrl: string,
    /** The private Redis, when the harness started one or was given one. */
    readonly redisServer: RedisServer | undefined,
    private readonly ownsRedis: boolean,
    private readonly options: SystemOptions,
    orderPort: number,
  ) {
    this.keys = new RedisKeys(options.namespace);
    // The services' own URL parser, so Sentinel and TLS URLs work here too.
    this.redis = createRedis(redisUrl, { connectionName: 'harness', offlineQueue: true, commandTimeoutMs: 30_000 });
    this.redis.on('error', () => undefined); // reconnects on its own (Redis restart tests)
    this.stock = new StockScripts(new ScriptClient(this.redis), this.keys);
    this.store = new OrderStore(this.redis, this.keys);
    this.nextInventoryPort = options.ports?.inventory;
    this.order = this.createProcess('order', 'order', orderPort, options.ports === undefined, {
      DD_SERVICE: 'order',
      ...options.orderEnv,
    });
  }

  /** Starts Redis (unless given), the order service and `replicas` inventory replicas, all ready. */
  static async start(options: SystemOptions = {}): Promise<SystemHarness> {
    let server = options.redisServer;
    const ownsRedis = server === undefined && options.redisUrl === undefined;
    if (ownsRedis) server = await RedisServer.start();
    const redisUrl = options.redisUrl ?? server!.url;
    let harness: SystemHarness;
    try {
      harness = new SystemHarness(redisUrl, server, ownsRedis, options, options.ports?.order ?? (await (options.pickPort ?? freePort)()));
    } catch (error) {
      if (ownsRedis) await server?.stop();
      throw error;
    }
    const { signal } = options;
    const aborted = new Promise<never>((_, reject) => {
      const onAbort = (): void => reject(signal?.reason instanceof Error ? signal.reason : new Error('system start aborted'));
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => undefined);
    try {
      harness.order.start();
      const replicas = harness.startInventory(options.replicas ?? 3);
      replicas.catch(() => undefined); // raced below; its rejection is handled there
      await Promise.race([Promise.all([harness.untilReady(harness.order), replicas]), aborted]);
    } catch (error) {
      await harness.stop();
      throw error;
    }
    return harness;
  }

  private createProcess(name: string, service: 'order' | 'inventory', port: number, portPickedFree: boolean, env: EnvVars): ServiceProcess {
    const { options } = this;
    const serviceProcess: ServiceProcess = new ServiceProcess({
      name,
      entry: serviceEntry(service, this.root),
      port,
      cwd: this.root,
      nodeArgs: options.nodeArgs?.(name),
      detached: options.detached,
      keepLogs: options.keepLogs,
      env: {
        REDIS_URL: this.redisUrl,
        REDIS_NAMESPACE: options.namespace,
        REPLICA_NAME: name,
        LOG_LEVEL: 'info',
        DD_ENV: 'test',
        DD_VERSION: '0.0.0-test',
        ...options.env,
        ...env,
      },
      onLine: options.onLine && ((line, stream) => options.onLine?.(name, line, stream)),
      onExit: (result) => {
        if (result.expected) return;
        // Not the service's fault: untilReady moves it to another port and starts it again.
        if (this.startingOnFreePort.has(serviceProcess) && serviceProcess.lostItsPort) return;
        this.crashes.push({ name, result });
        options.onUnexpectedExit?.(name, result);
      },
    });
    if (portPickedFree) this.startingOnFreePort.add(serviceProcess);
    return serviceProcess;
  }

  private pickPort(): Promise<number> {
    return (this.options.pickPort ?? freePort)();
  }

  /**
   * Waits until `service` is ready. A port picked free can be taken before the service binds it (by
   * another test file's server, or as the local end of an outgoing connection); the service then
   * exits with EADDRINUSE, and if the harness picked that port it moves the service to a fresh one
   * and starts it again (three tries in all).
   */
  private async untilReady(service: ServiceProcess): Promise<void> {
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await service.waitForReady(this.options.readyTimeoutMs);
          return;
        } catch (error) {
          if (!this.startingOnFreePort.has(service) || attempt === 3 || service.running) throw error;
          await service.exited; // every output line read, so the cause is known
          if (!service.lostItsPort || this.stopped) throw error;
          service.usePort(await this.pickPort());
          service.start();
        }
      }
    } finally {
      this.startingOnFreePort.delete(service);
    }
  }

  /**
   * Adds `count` inventory replicas named `inventory-<i>` (continuing the numbering) and waits until
   * they are ready. `env` overrides the system's inventory environment for these replicas only.
   */
  async startInventory(count: number, env: EnvVars = {}): Promise<ServiceProcess[]> {
    const started: ServiceProcess[] = [];
    for (let i = 0; i < count; i++) {
      if (this.stopped) throw new Error('the system has been stopped');
      const index = this.inventory.length;
      const pickedFree = this.nextInventoryPort === undefined;
      const port = this.nextInventoryPort === undefined ? await this.pickPort() : this.nextInventoryPort++;
      const replica = this.createProcess(`inventory-${index}`, 'inventory', port, pickedFree, {
        DD_SERVICE: 'inventory',
        INVENTORY_WORK_DELAY_MS: '0',
        ...this.options.inventoryEnv,
        ...env,
      });
      this.inventory.push(replica);
      replica.start();
      started.push(replica);
    }
    await Promise.all(started.map((replica) => this.untilReady(replica)));
    return started;
  }

  /** Every service process: order first, then the replicas. */
  get processes(): ServiceProcess[] {
    return [this.order, ...this.inventory];
  }

  /** Every JSON log line of every service (order's, then each replica's). */
  get logs(): LogLine[] {
    return this.processes.flatMap((p) => p.logs);
  }

  /** Log lines with the given `event` from every service. */
  events(event: string): LogLine[] {
    return this.logs.filter((line) => line.event === event);
  }

  /** The first line (from any service) matching `predicate`; rejects after `timeoutMs`. */
  async waitForLog(predicate: (line: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
    try {
      return await Promise.any(this.processes.map((p) => p.waitForLog(predicate, timeoutMs)));
    } catch {
      throw new Error(`no matching log line from any service within ${timeoutMs} ms`);
    }
  }

  get orderUrl(): string {
    return this.order.url;
  }

  /** URL of the first inventory replica that is running (for stock reads and writes). */
  get inventoryUrl(): string | undefined {
    return this.inventory.find((replica) => replica.running)?.url;
  }

  /** POST /orders. Resolves with the status either way; rejects only on a network failure. */
  async placeOrder(items: OrderItem[], options: PlaceOrderOptions = {}): Promise<PlacedOrder> {
    const body: { items: OrderItem[]; orderId?: string } = { items };
    if (options.orderId !== undefined) body.orderId = options.orderId;
    const headers: Record<string, string> = {};
    if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
    const reply = await requestJson<{ orderId?: string }>(`${this.orderUrl}/orders`, {
      body,
      headers,
      timeoutMs: options.timeoutMs ?? 30_000,
    });
    const orderId = reply.status === 202 && typeof reply.body?.orderId === 'string' ? reply.body.orderId : undefined;
    return { status: reply.status, orderId, body: reply.body };
  }

  /**
   * Places one order per element of `orders` with at most `concurrency` requests in flight; returns
   * the ids of the accepted ones (202) and every other answer.
   */
  async placeOrders(orders: OrderItem[][], concurrency = 64): Promise<{ accepted: string[]; refused: PlacedOrder[] }> {
    const placed = await mapLimit(orders, concurrency, (items) => this.placeOrder(items));
    const accepted: string[] = [];
    const refused: PlacedOrder[] = [];
    for (const result of placed) {
      if (result.orderId !== undefined) accepted.push(result.orderId);
      else refused.push(result);
    }
    return { accepted, refused };
  }

  /** POST /orders/:id/cancel. Resolves with the status either way; rejects only on a network failure. */
  async cancelOrder(
    orderId: string,
    timeoutMs = 10_000,
  ): Promise<HttpReply<OrderView | { orderId: string; status: string; cancel: string }>> {
    return requestJson(`${this.orderUrl}/orders/${encodeURIComponent(orderId)}/cancel`, { method: 'POST', timeoutMs });
  }

  /** GET /orders/:id (with `waitMs`, the service holds the request until the order is terminal). */
  async getOrder(orderId: string, waitMs?: number): Promise<HttpReply<OrderView>> {
    const query = waitMs === undefined ? '' : `?waitMs=${waitMs}`;
    return requestJson<OrderView>(`${this.orderUrl}/orders/${encodeURIComponent(orderId)}${query}`, {
      timeoutMs: (waitMs ?? 0) + 10_000,
    });
  }

  /** Sets a SKU's available stock through the inventory's set-stock script (no replica needed). */
  async seedStock(sku: string, available: number): Promise<void> {
    await this.stock.setStock(sku, available);
  }

  /** A fresh order id prefix or SKU prefix, unique per call. */
  static uniqueId(prefix = 't'): string {
    return `${prefix}-${randomUUID().slice(0, 8)}`;
  }

  /**
   * Waits until `orders:pending` is empty and every one of `orderIds` is terminal (not PENDING, no
   * cancellation under way, not missing), then until every RESERVED/REJECTED one has its
   * `order.processed` line and every CANCELLED one its `order.cancelled` line (and, when it was
   * released, the `order.processed` of its reservation) (at most
   * `logSettleMs`, since a line is printed just after its commit). Throws with the counts on timeout.
   */
  async waitForQuiet(orderIds: readonly string[], options: { timeoutMs?: number; logSettleMs?: number } = {}): Promise<void> {
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    let unsettled: string[] = [];
    let backlog = 0;
    for (;;) {
      backlog = await this.redis.zcard(this.keys.pending);
      unsettled = await this.nonTerminal(orderIds);
      if (backlog === 0 && unsettled.length === 0) break;
      if (Date.now() > deadline) {
        throw new Error(
          `system not quiet after ${options.timeoutMs ?? 30_000} ms: ${backlog} in ${this.keys.pending}, ` +
            `${unsettled.length} of ${orderIds.length} orders not terminal (e.g. ${unsettled.slice(0, 5).join(', ')})` +
            this.crashReport(),
        );
      }
      await delay(100);
    }
    const settleBy = Date.now() + (options.logSettleMs ?? 3000);
    const decided = await this.store.statuses(orderIds);
    const processed = orderIds.filter((_, i) => decided[i] === OrderStatus.Reserved || decided[i] === OrderStatus.Rejected);
    const cancelled = orderIds.filter((_, i) => decided[i] === OrderStatus.Cancelled);
    while (Date.now() < settleBy) {
      const processedLogged = new Set(this.events(LogEvent.OrderProcessed).map((line) => line.orderId));
      const cancelLines = new Map(this.events(LogEvent.OrderCancelled).map((line) => [line.orderId, line]));
      // A release can be logged before its reservation: that commit may still be re-running until confirmed.
      const settled = (id: string) => {
        const cancel = cancelLines.get(id);
        return cancel !== undefined && (cancel.released !== true || processedLogged.has(id));
      };
      if (processed.every((id) => processedLogged.has(id)) && cancelled.every(settled)) return;
      await delay(50);
    }
  }

  /** The crashed services with their last output, for error messages ('' when none crashed). */
  crashReport(): string {
    return this.crashes
      .map(({ name, result }) => {
        const tail = this.processes.find((p) => p.name === name)?.tail() ?? '';
        return `\n${name} exited unexpectedly (${result.signal ?? `code ${result.code}`}):\n${tail}`;
      })
      .join('');
  }

  private async nonTerminal(orderIds: readonly string[]): Promise<string[]> {
    const statuses = await this.store.statuses(orderIds);
    return orderIds.filter((_, i) => !isTerminal(statuses[i]));
  }

  /** Stops every service (SIGTERM, SIGKILL after `timeoutMs`), closes the client, then the owned Redis. */
  async stop(timeoutMs = 15_000): Promise<void> {
    this.stopped = true;
    await Promise.all(this.processes.map((p) => p.stop(timeoutMs)));
    this.redis.disconnect();
    if (this.ownsRedis) await this.redisServer?.stop();
  }
}
