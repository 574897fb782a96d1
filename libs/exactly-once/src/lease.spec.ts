import { LeaseLostError } from './errors';
import { sleep, withLease } from './lease';

describe('withLease', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('renews every third of the TTL while the work runs and returns its result', async () => {
    const renew = jest.fn().mockResolvedValue(true);
    const result = withLease({ id: 'o1', ttlMs: 300, renew }, async (signal) => {
      await sleep(1000, signal);
      return 'done';
    });
    await jest.advanceTimersByTimeAsync(1000);
    await expect(result).resolves.toBe('done');
    expect(renew.mock.calls.length).toBeGreaterThanOrEqual(9);
  });

  it('aborts the work with LeaseLostError as soon as a renewal finds the lock gone', async () => {
    const renew = jest.fn().mockResolvedValueOnce(true).mockResolvedValue(false);
    let seenSignal: AbortSignal | undefined;
    const result = withLease({ id: 'x', ttlMs: 300, renew }, async (signal) => {
      seenSignal = signal;
      await sleep(10_000, signal);
    });
    const assertion = expect(result).rejects.toBeInstanceOf(LeaseLostError);
    await jest.advanceTimersByTimeAsync(250);
    await assertion;
    expect(seenSignal?.aborted).toBe(true);
  });

  it('rejects even when the work ignores the signal', async () => {
    const renew = jest.fn().mockResolvedValue(false);
    const result = withLease({ id: 'x', ttlMs: 300, renew }, () => new Promise<void>((resolve) => setTimeout(resolve, 60_000)));
    const assertion = expect(result).rejects.toBeInstanceOf(LeaseLostError);
    await jest.advanceTimersByTimeAsync(150);
    await assertion;
  });

  it('keeps retrying failed renewals and gives up only after a whole TTL without one', async () => {
    let clock = 0;
    const errors: unknown[] = [];
    const renew = jest.fn().mockRejectedValue(new Error('connection lost'));
    const result = withLease({ id: 'x', ttlMs: 300, renew, now: () => clock, onRenewError: (e) => errors.push(e) }, (signal) =>
      sleep(10_000, signal),
    );
    const assertion = expect(result).rejects.toBeInstanceOf(LeaseLostError);
    clock = 200;
    await jest.advanceTimersByTimeAsync(200);
    expect(errors.length).toBeGreaterThanOrEqual(1);
    clock = 400;
    await jest.advanceTimersByTimeAsync(200);
    await assertion;
  });

  it('passes an outer abort (shutdown) through to the work with its reason', async () => {
    const outer = new AbortController();
    const renew = jest.fn().mockResolvedValue(true);
    const result = withLease({ id: 'x', ttlMs: 300, renew, signal: outer.signal }, (signal) => sleep(10_000, signal));
    const reason = new Error('shutdown');
    outer.abort(reason);
    await expect(result).rejects.toBe(reason);
  });

  it('stops renewing once the work has finished', async () => {
    const renew = jest.fn().mockResolvedValue(true);
    await withLease({ id: 'x', ttlMs: 300, renew }, async () => 'quick');
    await jest.advanceTimersByTimeAsync(1000);
    expect(renew).not.toHaveBeenCalled();
  });
});
