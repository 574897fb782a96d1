/** A decoded HTTP reply. */
export interface HttpReply<T = unknown> {
  status: number;
  /** Parsed JSON body, or the raw text when the body is not JSON (undefined when empty). */
  body: T;
}

/**
 * `fetch` with a deadline and a JSON body in and out. Network failures reject; HTTP error statuses
 * resolve (the caller decides what a 503 means).
 */
export async function requestJson<T = unknown>(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<HttpReply<T>> {
  const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.timeout(init.timeoutMs ?? 10_000),
  });
  const text = await response.text();
  let body: unknown = text === '' ? undefined : text;
  if (text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
  }
  return { status: response.status, body: body as T };
}

/** True when `url` answers 2xx within `timeoutMs`. */
export async function answers(url: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * Maps `items` through `fn` with at most `concurrency` calls in flight; results keep input order.
 * The first rejection rejects the whole map (after in-flight calls settle).
 */
export async function mapLimit<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index], index);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  if (failed) throw failed.error;
  return results;
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
