import type { Redis } from 'ioredis';
import { ReplicationAcks } from './replication-acks';
import { defineScripts, type ScriptSet } from './scripts';
import { noTracing, type Tracing } from './telemetry';
import { TurnWrites } from './turn-writes';

/**
 * Where reported writes go and how many replicas must confirm them (`WAIT`) before they count.
 * Without it, they run on the commands connection and count once the master answered.
 */
export interface Durability {
  /** A connection of its own: a blocked WAIT must not hold up the claims and reads behind it. */
  writes: Redis;
  replicas: number;
  timeoutMs: number;
}

/** How a {@link ScriptClient} is built besides its connection. */
export interface ScriptClientOptions {
  durability?: Durability;
  /** Names each script call's span; {@link noTracing} by default. */
  tracing?: Pick<Tracing, 'traceScript'>;
}

/** How one call is sent. */
export interface CallOptions {
  /** The span's name; the call is not traced without one. */
  script?: string;
  /** A per-record call: it shares a socket write with the other calls of its event-loop turn. */
  batched?: boolean;
}

/**
 * One process's script calls on its connections, shared by the engine and the services' own
 * scripts so that every write is confirmed by the same group-committed `WAIT`: `call` runs on the
 * commands connection, `write` (a write whose outcome is reported) on the durable one and resolves
 * only once enough replicas confirmed it, rejecting with `NotAcknowledgedError` otherwise.
 */
export class ScriptClient {
  /** Connection of the reported writes: the commands connection, or the durable one. */
  readonly durable: Redis;
  /** Confirms reported writes (`WAIT`); a pass-through with 0 replicas. */
  readonly acks: ReplicationAcks;
  private readonly turn: TurnWrites;
  private readonly durableTurn: TurnWrites;
  private readonly tracing: Pick<Tracing, 'traceScript'>;

  constructor(
    readonly commands: Redis,
    { durability, tracing = noTracing }: ScriptClientOptions = {},
  ) {
    this.tracing = tracing;
    this.turn = new TurnWrites(commands);
    this.durable = durability?.writes ?? commands;
    this.durableTurn = this.durable === commands ? this.turn : new TurnWrites(this.durable);
    this.acks = new ReplicationAcks(this.durable, durability?.replicas ?? 0, durability?.timeoutMs ?? 0);
  }

  /** Defines `scripts` on both connections (idempotent); returns this for chaining. */
  define(scripts: ScriptSet): this {
    defineScripts(this.commands, scripts);
    if (this.durable !== this.commands) defineScripts(this.durable, scripts);
    return this;
  }

  /** A call on the commands connection. */
  call<T>(send: (redis: Redis) => Promise<T>, options: CallOptions = {}): Promise<T> {
    if (options.batched) this.turn.hold();
    return this.traced(options.script, () => send(this.commands));
  }

  /**
   * A reported write: on the durable connection, resolved once confirmed. `send` should parse the
   * reply, so that the `NotAcknowledgedError` of an unconfirmed write carries the parsed result.
   */
  write<T>(send: (redis: Redis) => Promise<T>, options: CallOptions = {}): Promise<T> {
    return this.acks.write(() => {
      if (options.batched) this.durableTurn.hold();
      return this.traced(options.script, () => send(this.durable));
    });
  }

  private traced<T>(script: string | undefined, call: () => Promise<T>): Promise<T> {
    return script === undefined ? call() : this.tracing.traceScript(script, call);
  }
}
