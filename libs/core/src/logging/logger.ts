import type { LoggerService } from '@nestjs/common';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { CommonConfig } from '../config/env';

export type { Logger } from 'pino';

/**
 * The JSON line logger. Every line carries `time` (ISO-8601), `level` (label), `service`, `env`,
 * `version`, `replica` and `msg`; dd-trace's log injection adds `dd.trace_id`/`dd.span_id` when on.
 */
export function createLogger(
  config: Pick<CommonConfig, 'service' | 'env' | 'version' | 'replica' | 'logLevel'>,
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { service: config.service, env: config.env, version: config.version, replica: config.replica },
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'msg',
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: serializeError },
    },
    destination ?? batchedStdout(),
  );
}

/**
 * pino's error serializer, less the arguments of the Redis command an ioredis error carries: those
 * of AUTH and HELLO are the password, and a script's are a whole order.
 */
export function serializeError(error: Error): pino.SerializedError {
  const serialized = pino.stdSerializers.err(error);
  const command = (serialized as { command?: { name?: unknown } }).command;
  if (command !== undefined) serialized.command = { name: command?.name };
  return serialized;
}

/** How long a log line may wait in the buffer before it is written. */
const FLUSH_EVERY_MS = 100;

/**
 * stdout written asynchronously in batches: lines collect until 4 KiB or {@link FLUSH_EVERY_MS} have
 * passed, then go out in one write(2) that never blocks the event loop (a synchronous write to a
 * full pipe would stall the service). pino flushes what is buffered when the process exits; a
 * `kill -9` loses at most the last 100 ms of lines, never any state.
 */
function batchedStdout(): DestinationStream {
  const stream = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  setInterval(() => stream.flush(), FLUSH_EVERY_MS).unref();
  return stream;
}

/** Nest's bootstrap chatter (one line per module and route): useful when debugging, noise otherwise. */
const BOOTSTRAP_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory']);

/** Routes Nest's own framework messages into the same JSON stream. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.write(context !== undefined && BOOTSTRAP_CONTEXTS.has(context) ? 'debug' : 'info', message, context);
  }
  error(message: unknown, stackOrContext?: string, context?: string): void {
    if (context !== undefined) this.write('error', message, context, stackOrContext);
    else this.write('error', message, stackOrContext);
  }
  warn(message: unknown, context?: string): void {
    this.write('warn', message, context);
  }
  debug(message: unknown, context?: string): void {
    this.write('debug', message, context);
  }
  verbose(message: unknown, context?: string): void {
    this.write('trace', message, context);
  }
  fatal(message: unknown, context?: string): void {
    this.write('fatal', message, context);
  }

  private write(level: pino.Level, message: unknown, context?: string, stack?: string): void {
    const fields: Record<string, unknown> = { context };
    if (stack) fields.stack = stack;
    if (message instanceof Error) this.logger[level]({ ...fields, err: message }, message.message);
    else if (typeof message === 'object' && message !== null) this.logger[level]({ ...fields, ...message });
    else this.logger[level](fields, String(message));
  }
}
