/**
 * Affinity claiming (`claimMode: 'affinity'`): every worker still hears every message and the lock
 * still decides, but for each record only the worker that ranks first for its id by rendezvous
 * (highest random weight) hashing over the live workers claims at once. The worker ranked second
 * waits a hedge delay and drops the wait when the record's finish is announced on its own channel;
 * the others do nothing. So in the normal case a record costs Redis one claim and two deliveries of
 * its finish (the status channel and the runner-up's), whatever the number of workers. A dead or
 * paused first worker costs the second the hedge delay; the backlog sweep stays the last resort.
 */

/** The rendezvous weight of `worker` for `id`: FNV-1a over both, then MurmurHash3's finaliser. */
export function rendezvousWeight(worker: string, id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < worker.length; i++) h = Math.imul(h ^ worker.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ 0x1f, 0x01000193); // a separator: ("ab", "c") and ("a", "bc") differ
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * How many of `workers` rank before `self` for `id` (0: `self` claims at once). Every worker that
 * sees the same live set computes the same order, so exactly one has rank 0; ties go by name.
 */
export function rendezvousRank(id: string, self: string, workers: readonly string[]): number {
  const mine = rendezvousWeight(self, id);
  let rank = 0;
  for (const worker of workers) {
    if (worker === self) continue;
    const weight = rendezvousWeight(worker, id);
    if (weight > mine || (weight === mine && worker < self)) rank++;
  }
  return rank;
}

/**
 * The worker ranked second for `id` among `workers` (the one that holds a hedge for it), or
 * undefined when there is only one: the same order as {@link rendezvousRank}, in one pass.
 */
export function rendezvousRunnerUp(id: string, workers: readonly string[]): string | undefined {
  let first: string | undefined;
  let firstWeight = -1;
  let second: string | undefined;
  let secondWeight = -1;
  for (const worker of workers) {
    const weight = rendezvousWeight(worker, id);
    if (first === undefined || weight > firstWeight || (weight === firstWeight && worker < first)) {
      second = first;
      secondWeight = firstWeight;
      first = worker;
      firstWeight = weight;
    } else if (second === undefined || weight > secondWeight || (weight === secondWeight && worker < second)) {
      second = worker;
      secondWeight = weight;
    }
  }
  return second;
}

/** How a worker keeps the live set: one heartbeat round trip every `intervalMs`, dead after `ttlMs`. */
export interface HeartbeatOptions {
  intervalMs: number;
  ttlMs: number;
}

/** The live workers as this worker last saw them, refreshed by its own heartbeat. */
export class LiveWorkers {
  private live: readonly string[];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly beat: (leave: boolean) => Promise<string[]>,
    private readonly self: string,
    private readonly options: HeartbeatOptions,
    private readonly onError: (error: unknown) => void,
  ) {
    this.live = [self];
  }

  /** The live workers, this one always among them. */
  get workers(): readonly string[] {
    return this.live;
  }

  /** Beats once (so the first messages already see the others), then every `intervalMs`. */
  async start(): Promise<void> {
    await this.refresh();
    this.schedule();
  }

  /** Stops beating and says this worker is gone, so its records go to the others at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.beat(true).catch(() => undefined);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.refresh().finally(() => this.schedule());
    }, this.options.intervalMs);
    this.timer.unref();
  }

  private async refresh(): Promise<void> {
    try {
      const live = await this.beat(false);
      this.live = live.includes(this.self) ? live : [...live, this.self].sort();
    } catch (error) {
      // Keep the last view: with Redis away no claim succeeds anyway.
      this.onError(error);
    }
  }
}
