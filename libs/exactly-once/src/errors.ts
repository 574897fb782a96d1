/** The lease on a record's lock was lost (renewal found another owner, or could not renew in time). */
export class LeaseLostError extends Error {
  constructor(
    readonly id: string,
    detail: string,
  ) {
    super(`lease on ${id} lost: ${detail}`);
    this.name = 'LeaseLostError';
  }
}

/** Work was abandoned because the process is shutting down; the record is handed back. */
export class ShutdownAbortError extends Error {
  constructor() {
    super('work abandoned for shutdown: the drain deadline passed');
    this.name = 'ShutdownAbortError';
  }
}
