import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { delay } from './http';

/** One JSON log line as a service printed it (`time`, `level`, `service`, `replica`, `msg`, `event`…). */
export interface LogLine {
  time?: string;
  level?: string;
  service?: string;
  env?: string;
  version?: string;
  replica?: string;
  msg?: string;
  event?: string;
  orderId?: string;
  [field: string]: unknown;
}

/** A line that was not a JSON object (stack traces, Node warnings, crash output). */
export interface RawLine {
  stream: 'stdout' | 'stderr';
  text: string;
  time: number;
}

/**
 * Which JSON lines {@link ServiceProcess.logs} keeps, for long busy runs whose every line held in
 * memory would grow without bound (benchmarks). Lines of other events are not parsed, only counted
 * in {@link ServiceProcess.eventCounts}; {@link ServiceProcess.tail} then shows the last lines as text.
 */
export interface LogRetention {
  /** Keep only lines whose `event` is one of these (none when empty). */
  events: readonly string[];
  /** Keep only these fields of a kept line (default: all). */
  fields?: readonly string[];
}

/** How a run of the process ended. */
export interface ExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when {@link ServiceProcess.kill} or {@link ServiceProcess.stop} asked for it. */
  expected: boolean;
}

/** How to run one service. */
export interface ServiceProcessOptions {
  /** Name used in errors and as the output prefix (`order`, `inventory-1`). */
  name: string;
  /** Absolute path of the JavaScript entry point run with `node`. */
  entry: string;
  /** HTTP port the service listens on (also passed as `PORT`). */
  port: number;
  /** Environment on top of this process's own; `undefined` values remove a variable. */
  env?: Record<string, string | undefined>;
  /** Extra `node` flags (e.g. `--require dd-trace/init`). */
  nodeArgs?: string[];
  cwd?: string;
  /** Called with every output line, as printed (for prefixed forwarding). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Called when a run ends; `expected` tells a requested stop from a crash. */
  onExit?: (result: ExitResult) => void;
  /** Own process group: a terminal's Ctrl-C then reaches only the supervisor, which stops us in order. */
  detached?: boolean;
  /** Keep only some JSON lines in {@link ServiceProcess.logs} (default: every line). */
  keepLogs?: LogRetention;
}

// Children still running when this process exits are killed, so a crashed run leaves no orphans.
// The hook exists only while children do (jest loads this module afresh for every test file).
const live = new Set<ChildProcess>();
const killLive = (): void => {
  for (const child of live) child.kill('SIGKILL');
};
function track(child: ChildProcess): void {
  if (live.size === 0) process.on('exit', killLive);
  live.add(child);
}
function untrack(child: ChildProcess): void {
  live.delete(child);
  if (live.size === 0) process.off('exit', killLive);
}

/**
 * One service as a child process: `node <entry>` with the given environment, its stdout/stderr
 * read line by line, JSON lines kept in {@link logs} (across restarts) and anything else in
 * {@link rawLines}. Can be signalled (kill, pause, resume) and restarted on the same port.
 */
export class ServiceProcess {
  /** Every JSON line printed by every run, in arrival order. */
  readonly logs: LogLine[] = [];
  /** Every non-JSON line. */
  readonly rawLines: RawLine[] = [];
  /** JSON lines per `event` (`''` for lines without one), kept or not, across restarts. */
  readonly eventCounts = new Map<string, number>();
  /** The last output lines as text, kept only with {@link ServiceProcessOptions.keepLogs} (for {@link tail}). */
  private readonly recent: string[] = [];
  private readonly keptEventMarkers: string[] | undefined;
  private child: ChildProcess | undefined;
  private exitPromise: Promise<ExitResult> = Promise.resolve({ code: null, signal: null, expected: true });
  private stopRequested = false;
  private waiters = new Set<() => void>();
  private currentPort: number;
  /** `service.started` lines counted before the current run began: the run prints one more once it listens. */
  private startedBefore = 0;

  constructor(readonly options: ServiceProcessOptions) {
    this.keptEventMarkers = options.keepLogs?.events.map((event) => `"event":${JSON.stringify(event)}`);
    this.currentPort = options.port;
  }

  /** Creates and starts the process (does not wait for readiness). */
  static start(options: ServiceProcessOptions): ServiceProcess {
    const service = new ServiceProcess(options);
    service.start();
    return service;
  }

  get name(): string {
    return this.options.name;
  }

  get port(): number {
    return this.currentPort;
  }

  /** `http://127.0.0.1:<port>`. */
  get url(): string {
    return `http://127.0.0.1:${this.currentPort}`;
  }

  /** Moves a stopped service to another port, for its next {@link start}. */
  usePort(port: number): void {
    if (this.running) throw new Error(`${this.name} is running on ${this.currentPort}; stop it before moving it`);
    this.currentPort = port;
  }

  /** True once the current run has printed its `service.started` line, which it does after its listen succeeded. */
  get startedThisRun(): boolean {
    return (this.eventCounts.get(STARTED_EVENT) ?? 0) > this.startedBefore;
  }

  /**
   * True when the last run exited before it started because its port was taken (EADDRINUSE): a
   * port picked free a moment earlier can be taken meanwhile, even as the local end of some
   * outgoing connection.
   */
  get lostItsPort(): boolean {
    return !this.running && !this.startedThisRun && this.tail(50).includes('EADDRINUSE');
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** True while the current run has not exited. */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves when the current run exits (immediately if none is running). */
  get exited(): Promise<ExitResult> {
    return this.exitPromise;
  }

  /** Spawns the process; a no-op while it runs. */
  start(): void {
    if (this.running) return;
    const { entry, env, nodeArgs = [], cwd, detached } = this.options;
    const childEnv: NodeJS.ProcessEnv = { ...process.env };
    for (const [key, value] of Object.entries({ ...env, PORT: String(this.currentPort) })) {
      if (value === undefined) delete childEnv[key];
      else childEnv[key] = value;
    }
    const child = spawn(process.execPath, [...nodeArgs, entry], {
      env: childEnv,
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: detached ?? false,
    });
    this.child = child;
    this.stopRequested = false;
    this.startedBefore = this.eventCounts.get(STARTED_EVENT) ?? 0;
    track(child);
    this.exitPromise = new Promise<ExitResult>((resolve) => {
      // 'close' (not 'exit') so every output line has been read before anyone hears of the exit.
      child.once('close', (code, signal) => {
        untrack(child);
        const result: ExitResult = { code, signal, expected: this.stopRequested };
        this.notify();
        this.options.onExit?.(result);
        resolve(result);
      });
      child.once('error', (error) => {
        this.rawLines.push({ stream: 'stderr', text: `spawn failed: ${error.message}`, time: Date.now() });
      });
    });
    this.read(child, 'stdout');
    this.read(child, 'stderr');
  }

  private read(child: ChildProcess, stream: 'stdout' | 'stderr'): void {
    const source = stream === 'stdout' ? child.stdout : child.stderr;
    if (!source) return;
    const lines = createInterface({ input: source, crlfDelay: Infinity });
    lines.on('line', (line) => {
      this.options.onLine?.(line, stream);
      if (this.keptEventMarkers) return this.retain(line, stream);
      const parsed = parseJsonObject(line);
      if (parsed) {
        this.count(parsed.event);
        this.logs.push(parsed);
      } else if (line.trim() !== '') this.rawLines.push({ stream, text: line, time: Date.now() });
      this.notify();
    });
  }

  private count(event: unknown): void {
    const key = typeof event === 'string' ? event : '';
    this.eventCounts.set(key, (this.eventCounts.get(key) ?? 0) + 1);
  }

  /** {@link ServiceProcessOptions.keepLogs}: parse only lines that name a kept event; count the rest. */
  private retain(line: string, stream: 'stdout' | 'stderr'): void {
    this.recent.push(`[${this.name} ${stream}] ${line}`);
    if (this.recent.length > 50) this.recent.shift();
    if (!line.startsWith('{')) {
      if (line.trim() !== '') this.rawLines.push({ stream, text: line, time: Date.now() });
      return this.notify();
    }
    if (!this.keptEventMarkers!.some((marker) => line.includes(marker))) {
      this.count(EVENT_FIELD.exec(line)?.[1]);
      return;
    }
    const parsed = parseJsonObject(line);
    if (!parsed) {
      this.rawLines.push({ stream, text: line, time: Date.now() });
      return this.notify();
    }
    this.count(parsed.event);
    const { events, fields } = this.options.keepLogs!;
    if (typeof parsed.event !== 'string' || !events.includes(parsed.event)) return;
    if (fields) {
      const kept: LogLine = {};
      for (const field of fields) if (parsed[field] !== undefined) kept[field] = parsed[field];
      this.logs.push(kept);
    } else this.logs.push(parsed);
    this.notify();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Sends `signal` (default SIGTERM) to the running process and resolves when it has exited. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<ExitResult> {
    const child = this.child;
    if (!child || !this.running) return this.exitPromise;
    this.stopRequested = true;
    // A stopped process cannot act on SIGTERM until it is continued.
    if (signal !== 'SIGKILL') child.kill('SIGCONT');
    child.kill(signal);
    return this.exitPromise;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `timeoutMs`. */
  async stop(timeoutMs = 15_000): Promise<ExitResult> {
    if (!this.running) return this.exitPromise;
    const exited = this.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGSTOP: the process freezes (timers, sockets, leases) until {@link resume}. */
  pause(): void {
    if (this.running) this.child?.kill('SIGSTOP');
  }

  /** SIGCONT after {@link pause}. */
  resume(): void {
    if (this.running) this.child?.kill('SIGCONT');
  }

  /** Stops the current run (gracefully unless `signal` says otherwise) and starts a new one. */
  async restart(options: { signal?: NodeJS.Signals; waitReady?: boolean; timeoutMs?: number } = {}): Promise<void> {
    if (options.signal) await this.kill(options.signal);
    else await this.stop();
    this.start();
    if (options.waitReady ?? true) await this.waitForReady(options.timeoutMs);
  }

  /**
   * Waits until this run has printed `service.started` and `GET /health/ready` answers 200; fails
   * early (with the output tail) if the process exits. Without the first condition another process
   * that took the same port could answer for one that could not listen.
   */
  async waitForReady(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`${this.name} exited before becoming ready\n${this.tail()}`);
      if (this.startedThisRun && (await this.answersReady())) return;
      if (Date.now() > deadline) throw new Error(`${this.name} not ready on ${this.url} within ${timeoutMs} ms\n${this.tail()}`);
      await delay(100);
    }
  }

  private async answersReady(): Promise<boolean> {
    try {
      const response = await fetch(`${this.url}/health/ready`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      return response.status === 200;
    } catch {
      return false; // not answering yet
    }
  }

  /**
   * Resolves with the first log line (at index ≥ `since`) matching `predicate`, looking at lines
   * already received first; rejects after `timeoutMs`.
   */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs = 10_000, since = 0): Promise<LogLine> {
    let checked = since;
    const scan = (): LogLine | undefined => {
      for (; checked < this.logs.length; checked++) {
        const line = this.logs[checked];
        if (predicate(line)) return line;
      }
      return undefined;
    };
    const found = scan();
    if (found) return Promise.resolve(found);
    return new Promise<LogLine>((resolve, reject) => {
      const waiter = (): void => {
        const match = scan();
        if (match) {
          cleanup();
          resolve(match);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.name}: no matching log line within ${timeoutMs} ms\n${this.tail()}`));
      }, timeoutMs);
      timer.unref();
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
    });
  }

  /** Log lines with the given `event`. */
  events(event: string): LogLine[] {
    return this.logs.filter((line) => line.event === event);
  }

  /** The last `n` lines of output (JSON and raw), for error messages. */
  tail(n = 20): string {
    if (this.keptEventMarkers)
      return this.recent
        .slice(-n)
        .map((line) => `  ${line}`)
        .join('\n');
    const raw = this.rawLines.slice(-n).map((line) => `  [${this.name} ${line.stream}] ${line.text}`);
    const json = this.logs.slice(-n).map((line) => `  [${this.name}] ${JSON.stringify(line)}`);
    return [...json, ...raw].slice(-n).join('\n');
  }
}

/** What both services log once they listen on their port. */
const STARTED_EVENT = 'service.started';

/** The `event` field of a pino line, read without parsing it. */
const EVENT_FIELD = /"event":"([^"\\]*)"/;

function parseJsonObject(line: string): LogLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as LogLine) : undefined;
  } catch {
    return undefined;
  }
}
