/**
 * The engine scripts' replies as TypeScript unions, and their parsers: the one place that knows
 * each script's return codes (the Lua headers document the same codes).
 */

/** Identity of one processing attempt: the record, the attempt's random lock token, who runs it. */
export interface Attempt {
  id: string;
  token: string;
  worker: string;
}

/** Outcome of `claim.lua`. */
export type ClaimResult =
  | {
      code: 'claimed';
      attempt: number;
      /** The status the record was claimed in: which handler runs. */
      status: string;
      createdAt: string;
      trace: Record<string, string> | undefined;
      /** The record fields the claim was asked for. */
      fields: Record<string, string | null>;
    }
  | { code: 'locked' }
  /** A fresh-only claim (a hedge) found the work started by another attempt. */
  | { code: 'started' }
  | { code: 'already_processed'; status: string }
  | { code: 'not_found' }
  | { code: 'exhausted'; attempts: number };

/** Outcome of `fail-attempt.lua`. */
export type FailResult =
  | { code: 'retry'; attempts: number }
  | { code: 'failed'; attempts: number }
  | { code: 'lease_lost'; status: string }
  | { code: 'already_processed'; status: string };

/** What the fence include answers when it refuses a commit (or finds it already done). */
export type FenceRefusal =
  | { code: 'replayed'; status: string; attempts: number }
  | { code: 'lease_lost'; status: string }
  | { code: 'already_processed'; status: string }
  | { code: 'not_found' };

/**
 * Outcome of a service's fenced commit: the record finished with `status` (the service names the
 * `outcome` and adds what its log line should say), or a {@link FenceRefusal}.
 */
export type CommitResult =
  | { code: 'committed'; status: string; outcome: string; attempts: number; detail?: Record<string, string | number | boolean> }
  | FenceRefusal;

/** What the sweep sees of the backlog: its size, how overdue the oldest entry is, the due ids. */
export interface DueBatch {
  size: number;
  overdueMs: number;
  ids: string[];
}

/** Thrown for a reply a script never gives: a script and its caller out of step. */
export class UnexpectedReplyError extends Error {
  constructor(script: string, reply: unknown) {
    super(`${script}: unexpected reply ${JSON.stringify(reply)}`);
    this.name = 'UnexpectedReplyError';
  }
}

/** The {@link FenceRefusal} in a fenced script's reply, or undefined when the reply is the script's own. */
export function parseFenceRefusal(reply: ReadonlyArray<unknown>): FenceRefusal | undefined {
  switch (reply[0]) {
    case 'replayed':
      return { code: 'replayed', status: String(reply[1]), attempts: Number(reply[2]) };
    case 'lease_lost':
    case 'already_processed':
      return { code: reply[0], status: String(reply[1]) };
    case 'not_found':
      return { code: 'not_found' };
    default:
      return undefined;
  }
}

export function parseClaim(reply: ReadonlyArray<string | number | null>, fieldNames: readonly string[]): ClaimResult {
  switch (reply[0]) {
    case 'claimed': {
      const fields: Record<string, string | null> = {};
      fieldNames.forEach((name, i) => {
        const value = reply[5 + i];
        fields[name] = value === null || value === undefined ? null : String(value);
      });
      return {
        code: 'claimed',
        attempt: Number(reply[1]),
        status: String(reply[2]),
        createdAt: String(reply[3] ?? ''),
        trace: reply[4] ? (JSON.parse(String(reply[4])) as Record<string, string>) : undefined,
        fields,
      };
    }
    case 'locked':
    case 'started':
    case 'not_found':
      return { code: reply[0] };
    case 'already_processed':
      return { code: 'already_processed', status: String(reply[1]) };
    case 'exhausted':
      return { code: 'exhausted', attempts: Number(reply[1]) };
    default:
      throw new UnexpectedReplyError('claim', reply);
  }
}

export function parseFail(reply: ReadonlyArray<string | number>): FailResult {
  switch (reply[0]) {
    case 'retry':
    case 'failed':
      return { code: reply[0], attempts: Number(reply[1]) };
    case 'lease_lost':
    case 'already_processed':
      return { code: reply[0], status: String(reply[1]) };
    default:
      throw new UnexpectedReplyError('fail-attempt', reply);
  }
}
