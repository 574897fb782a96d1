import { write, writeSync } from 'node:fs';

/** How long a line may wait in the buffer before it is written. */
const FLUSH_EVERY_MS = 100;
/** A batch this large goes out at once. */
const FLUSH_AT_BYTES = 4096;
/** Past this much unwritten output (a reader that stopped reading) new lines are dropped, not held. */
const MAX_PENDING_BYTES = 16 * 2 ** 20;

/**
 * Log output for a file descriptor (stdout) that never blocks the event loop and never throws:
 * lines collect until 4 KiB or 100 ms have passed, then go out in one asynchronous write(2), one
 * write in flight at a time. A broken pipe (`| head`, a `tee` that died: EPIPE) or any other write
 * error ends the output for good instead of failing the service; so does a reader that stopped
 * reading, once 16 MiB are waiting. On exit what is left goes out in one synchronous write, once,
 * without retrying. (pino's own destination retries a failed exit flush forever on EPIPE: a service
 * whose stdout was closed hung on SIGTERM.) A `kill -9` loses at most the last 100 ms of lines.
 */
export class BatchedOutput {
  private pending: string[] = [];
  private pendingBytes = 0;
  private writing = false;
  private broken = false;
  /** Lines dropped because the reader stopped reading or went away. */
  dropped = 0;

  constructor(private readonly fd: number) {
    setInterval(() => this.flush(), FLUSH_EVERY_MS).unref();
    process.once('exit', () => this.flushSync());
  }

  /** Takes one serialized line (pino's `DestinationStream`). */
  write(line: string): void {
    if (this.broken || this.pendingBytes > MAX_PENDING_BYTES) {
      this.dropped++;
      return;
    }
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (this.pendingBytes >= FLUSH_AT_BYTES) this.flush();
  }

  /** Starts writing what is buffered, unless a write is in flight (its callback continues). */
  flush(): void {
    if (this.writing || this.broken || this.pending.length === 0) return;
    const lines = this.pending.length;
    this.writeOut(Buffer.from(this.take()), lines);
  }

  /** One write in flight at a time; a short write (a full pipe) goes on with the rest of its bytes. */
  private writeOut(buffer: Buffer, lines: number): void {
    this.writing = true;
    write(this.fd, buffer, 0, buffer.length, null, (error, written) => {
      if (error) {
        this.writing = false;
        this.dropped += lines;
        this.breakOff();
        return;
      }
      if (written < buffer.length) {
        this.writeOut(buffer.subarray(written), lines);
        return;
      }
      this.writing = false;
      if (this.pendingBytes >= FLUSH_AT_BYTES) this.flush();
    });
  }

  /** One synchronous attempt at what is left (process exit): never retried, errors ignored. */
  flushSync(): void {
    if (this.broken || this.pending.length === 0) return;
    const lines = this.pending.length;
    try {
      writeSync(this.fd, this.take());
    } catch {
      this.dropped += lines;
      this.breakOff();
    }
  }

  private take(): string {
    const batch = this.pending.join('');
    this.pending = [];
    this.pendingBytes = 0;
    return batch;
  }

  private breakOff(): void {
    this.broken = true;
    this.dropped += this.pending.length;
    this.pending = [];
    this.pendingBytes = 0;
  }
}
