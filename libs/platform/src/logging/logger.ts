import type { LoggerService } from '@nestjs/common';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { CommonConfig } from '../config/env';
import { BatchedOutput } from './batched-output';

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
    destination ?? new BatchedOutput(1),
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
