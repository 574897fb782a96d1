import type { Redis } from 'ioredis';

/**
 * Lets the commands one connection sends in an event-loop turn leave in one socket write.
 *
 * Under load a worker gets several messages in one read and sends a claim for each, and a producer
 * runs its accept script for several requests in one poll
 * phase. Sent one by one, every command is a `write` of its own, Redis takes each in a read of its
 * own, and its replies and Pub/Sub deliveries go out in as many small writes: on the 2-core bench
 * machine each of those wake-ups costs more CPU than the command. {@link hold} corks the socket at
 * the first command of a turn and uncorks it in the same turn's check phase (`setImmediate`), so
 * the turn's commands go out in one `writev`. Unlike ioredis's auto-pipelining it creates no
 * `Pipeline` per turn, which `npm run bench` showed cost more than it saved.
 */
export class TurnWrites {
  private held = false;

  constructor(private readonly redis: Redis) {}

  /** Call right before sending a command: the first call of a turn holds the socket's writes. */
  hold(): void {
    // Before 'ready' ioredis queues commands itself and writes them out together on connect.
    if (this.held || this.redis.status !== 'ready') return;
    // The socket of this turn: after a reconnect `redis.stream` is a new one.
    const stream = this.redis.stream;
    this.held = true;
    stream.cork();
    setImmediate(() => {
      this.held = false;
      stream.uncork();
    });
  }
}
