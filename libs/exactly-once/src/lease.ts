import { LeaseLostError } from './errors';

/** What a lease needs from the outside world; narrow so it can be tested with fake timers. */
export interface LeaseOptions {
  /** The id whose lock is held (for errors). */
  id: string;
  /** Lock TTL; renewal runs every ttl/3. */
  ttlMs: number;
  /** Compare-and-extend; resolves false when the lock is no longer ours. */
  renew: () => Promise<boolean>;
  /** Aborts the work from outside (shutdown). Its reason becomes the rejection. */
  signal?: AbortSignal;
  /** Called for a renewal that failed with an error (Redis away); the lease keeps trying until TTL. */
  onRenewError?: (error: unknown) => void;
  /** Monotonic milliseconds; `performance.now` by default. */
  now?: () => number;
}

/**
 * Runs `work` while keeping its lock alive, in the shape of redlock's `using()`: renews every ttl/3,
 * and when a renewal finds the lock gone (or no renewal succeeded for a whole TTL) aborts the
 * signal handed to `work` with a {@link LeaseLostError} and rejects at once, without waiting for
 * work that ignores the signal. Renewal failures never surface as unhandled rejections.
 */
export async function withLease<T>(options: LeaseOptions, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const now = options.now ?? (() => performance.now());
  const controller = new AbortController();
  let lastRenewed = now();
  let renewing = false;

  const abort = (reason: unknown): void => {
    if (!controller.signal.aborted) controller.abort(reason);
  };
  const onOuterAbort = (): void => abort(options.signal?.reason);
  if (options.signal?.aborted) onOuterAbort();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });

  const timer = setInterval(
    () => {
      if (renewing || controller.signal.aborted) return;
      renewing = true;
      const startedAt = now();
      options
        .renew()
        .then((owned) => {
          if (owned) lastRenewed = startedAt;
          else abort(new LeaseLostError(options.id, 'the lock is held by another attempt or expired'));
        })
        .catch((error: unknown) => {
          options.onRenewError?.(error);
          if (now() - lastRenewed >= options.ttlMs) abort(new LeaseLostError(options.id, 'could not renew within the TTL'));
        })
        .finally(() => {
          renewing = false;
        });
    },
    Math.max(1, Math.floor(options.ttlMs / 3)),
  );

  const aborted = new Promise<never>((_, reject) => {
    const onAbort = (): void => reject(controller.signal.reason);
    if (controller.signal.aborted) onAbort();
    else controller.signal.addEventListener('abort', onAbort, { once: true });
  });
  // The race below may settle through `work`; keep the losing rejection from being unhandled.
  aborted.catch(() => undefined);

  try {
    const result = await Promise.race([work(controller.signal), aborted]);
    if (controller.signal.aborted) throw controller.signal.reason;
    return result;
  } finally {
    clearInterval(timer);
    options.signal?.removeEventListener('abort', onOuterAbort);
  }
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
