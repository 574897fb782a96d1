import { write, writeSync } from 'node:fs';

/** How long a line may wait in the buffer before it is written. */
const FLUSH_EVERY_MS = 100;
/** A batch this large goes out at once. */
const FLUSH_AT_BYTES = 4096;
/** Past this much unwritten output (a reader that stopped reading) new lines are dropped, not held. */
const MAX_PENDING_BYTES = 16 * 2 ** 20;
/** A full pipe (EAGAIN) is tried again after this long. */
const FULL_PIPE_RETRY_MS = 20;
/** On exit, how long a full pipe is waited for before what is left is dropped. */
const EXIT_FLUSH_WAIT_MS = 2000;

/**
 * Log output for a file descriptor (stdout) that never blocks the event loop and never throws:
 * lines collect until 4 KiB or 100 ms have passed, then go out in one asynchronous write(2), one
 * write in flight at a time. A full pipe (EAGAIN: stdout is non-blocking once anything touched
 * `process.stdout`, and a log collector may fall behind) is tried again every 20 ms while new lines
 * wait, up to 16 MiB of them; past that new lines are dropped and counted. A broken pipe (`| head`,
 * a `tee` that died: EPIPE) or any other write error ends the output for good instead of failing
 * the service. On exit what is left goes out in synchronous writes, waiting at most 2 s for a full
 * pipe and never retrying an error. (pino's own destination retries a failed exit flush forever on
 * EPIPE: a service whose stdout was closed hung on SIGTERM.) A `kill -9` loses at most the last
 * 100 ms of lines.
 */
export class BatchedOutput {
  private pending: string[] = [];
  private pendingBytes = 0;
  private writing = false;
  private broken = false;
  /** A batch the pipe had no room for, and the timer that tries it again. */
  private waiting?: { buffer: Buffer; lines: number; timer: NodeJS.Timeout };
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
      if (error?.code === 'EAGAIN') {
        const timer = setTimeout(() => {
          this.waiting = undefined;
          this.writeOut(buffer, lines);
        }, FULL_PIPE_RETRY_MS);
        this.waiting = { buffer, lines, timer };
        return;
      }
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

  /**
   * Writes what is left synchronously (process exit): a full pipe is waited for up to 2 s, an error
   * is never retried; what cannot be written is counted as dropped.
   */
  flushSync(): void {
    if (this.broken) return;
    const batches: Buffer[] = [];
    let lines = this.pending.length;
    if (this.waiting) {
      clearTimeout(this.waiting.timer);
      batches.push(this.waiting.buffer);
      lines += this.waiting.lines;
      this.waiting = undefined;
      this.writing = false;
    }
    if (this.pending.length > 0) batches.push(Buffer.from(this.take()));
    if (batches.length === 0) return;
    const buffer = Buffer.concat(batches);
    const giveUpAt = Date.now() + EXIT_FLUSH_WAIT_MS;
    let offset = 0;
    while (offset < buffer.length) {
      try {
        offset += writeSync(this.fd, buffer, offset);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN' && Date.now() < giveUpAt) {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
          continue;
        }
        this.dropped += lines;
        this.breakOff();
        return;
      }
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
