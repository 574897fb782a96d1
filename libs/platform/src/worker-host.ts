import { type BeforeApplicationShutdown, Inject, type OnApplicationBootstrap } from '@nestjs/common';
import {
  type CommitResult,
  type ConsumerTuning,
  type Decoded,
  ExactlyOnceConsumer,
  type Fence,
  type Job,
  type Metrics,
  type Tracing,
  type Vocabulary,
  WorkQueue,
} from '@eo/exactly-once';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { LOGGER, METRICS, TRACING } from './platform.module';
import { SUBSCRIBER } from './redis/tokens';

/** What a worker host tells the engine about its messages. */
export interface WorkerHostOptions {
  /** This replica's name: in lock tokens and `processedBy`. */
  worker: string;
  tuning: ConsumerTuning;
  /** The channel announcing work. */
  channel: string;
  decode: (raw: string) => Decoded;
  vocabulary: Vocabulary;
  /** One entry per message type: the record status it works on, and the record fields it reads. */
  messages: ReadonlyArray<{ type: string; status: string; fields?: readonly string[] }>;
}

/**
 * A Nest provider that runs the exactly-once engine, in the shape of `@nestjs/bullmq`'s
 * `WorkerHost`: a service subclasses it and implements {@link process} (the work between claim and
 * commit, honouring `signal`) and {@link commit} (its fenced script). The host subscribes once the
 * app is up and drains in-flight work before Nest closes the Redis connections.
 */
export abstract class ExactlyOnceWorkerHost implements OnApplicationBootstrap, BeforeApplicationShutdown {
  @Inject(SUBSCRIBER) private readonly subscriber!: Redis;
  @Inject(WorkQueue) private readonly queue!: WorkQueue;
  @Inject(LOGGER) private readonly logger!: Logger;
  @Inject(METRICS) private readonly metrics!: Metrics;
  @Inject(TRACING) private readonly tracing!: Tracing;
  private built: ExactlyOnceConsumer | undefined;

  constructor(private readonly hostOptions: WorkerHostOptions) {}

  /** The work between claim and commit for `job` (its `type` says which message); honour `signal`. */
  abstract process(job: Job, signal: AbortSignal): Promise<void>;

  /** Applies `job`'s effect through the service's fenced script, starting with `fence`'s keys and arguments. */
  abstract commit(job: Job, fence: Fence): Promise<CommitResult>;

  /** The engine, built on first use (property injection has run by then). */
  get consumer(): ExactlyOnceConsumer {
    if (!this.built) {
      const { worker, tuning, channel, decode, vocabulary, messages } = this.hostOptions;
      this.built = new ExactlyOnceConsumer({
        ...tuning,
        worker,
        channel,
        decode,
        vocabulary,
        queue: this.queue,
        subscriber: this.subscriber,
        logger: this.logger,
        metrics: this.metrics,
        tracing: this.tracing,
        handlers: messages.map((message) => ({
          ...message,
          process: (job, signal) => this.process(job, signal),
          commit: (job, fence) => this.commit(job, fence),
        })),
      });
    }
    return this.built;
  }

  onApplicationBootstrap(): void {
    // Not awaited: with Redis away at boot the subscription waits for it, and the HTTP server (live
    // probe, readiness = false) must come up meanwhile.
    this.consumer.start().catch((err: unknown) => this.logger.fatal({ err }, 'could not start the consumer'));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer.stop();
  }
}
