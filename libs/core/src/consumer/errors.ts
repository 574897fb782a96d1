/** The lease on an order's lock was lost (renewal found another owner, or could not renew in time). */
export class LeaseLostError extends Error {
  constructor(
    readonly orderId: string,
    detail: string,
  ) {
    super(`lease on order ${orderId} lost: ${detail}`);
    this.name = 'LeaseLostError';
  }
}

/** Work was abandoned because the process is shutting down; the order is handed back. */
export class ShutdownAbortError extends Error {
  constructor() {
    super('work abandoned for shutdown: the drain deadline passed');
    this.name = 'ShutdownAbortError';
  }
}
