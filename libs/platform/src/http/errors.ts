import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus, type INestApplication } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { STATUS_CODES } from 'node:http';
import type { Logger } from 'pino';
import type { FieldError } from '@eo/contract';

/** JSON error body every endpoint answers with; `field` names the offending input when there is one. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  field?: string;
}

/** 400 naming the field that failed validation; the message starts with the field. */
export class FieldValidationException extends HttpException {
  constructor(error: FieldError, status: HttpStatus = HttpStatus.BAD_REQUEST) {
    super({ statusCode: status, error: reason(status), message: `${error.field} ${error.message}`, field: error.field }, status);
  }
}

/** 503 for a request that could not reach Redis; says plainly what was (not) done. */
export class RedisUnavailableException extends HttpException {
  constructor(message: string) {
    super({ statusCode: HttpStatus.SERVICE_UNAVAILABLE, error: 'Service Unavailable', message }, HttpStatus.SERVICE_UNAVAILABLE);
  }
}

/** The standard reason phrase for an HTTP status ("Payload Too Large"). */
function reason(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

/**
 * Turns every error (Nest's, Fastify's own body-parser errors such as invalid JSON or 413, and
 * unexpected ones) into one JSON {@link ErrorBody}; 5xx are logged, 4xx are not.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly logger: Logger,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const { status, body } = toErrorBody(exception);
    if (status >= 500 && status !== 503) this.logger.error({ err: exception }, 'request failed');
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), body, status);
  }
}

/** Body for an error Fastify raised before routing (Nest re-throws it as a plain-string HttpException). */
function parserErrorBody(status: number, text: string): ErrorBody {
  if (status === 413) return { statusCode: 413, error: reason(413), message: 'body must be at most 64 KiB', field: 'body' };
  if (status === 415)
    return { statusCode: 415, error: reason(415), message: 'Content-Type must be application/json', field: 'Content-Type' };
  if (status === 400) return { statusCode: 400, error: reason(400), message: `body is invalid: ${text}`, field: 'body' };
  return { statusCode: status, error: reason(status), message: text };
}

/**
 * Maps any thrown value (Nest HttpException, Fastify error, other) to a status and JSON body: an
 * {@link ErrorBody}, or a structured body passed through as it is (terminus health reports).
 */
export function toErrorBody(exception: unknown): { status: number; body: ErrorBody | object } {
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    if (typeof response === 'string') return { status, body: parserErrorBody(status, response) };
    if ('message' in response) {
      const r = response as Partial<ErrorBody> & { message: unknown };
      const message = Array.isArray(r.message) ? r.message.join('; ') : String(r.message);
      return { status, body: { statusCode: status, error: r.error ?? reason(status), message, ...(r.field ? { field: r.field } : {}) } };
    }
    return { status, body: response };
  }
  const e = exception as { statusCode?: unknown; message?: unknown } | null;
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, body: parserErrorBody(e.statusCode, typeof e.message === 'string' ? e.message : 'invalid request') };
  }
  return { status: 500, body: { statusCode: 500, error: reason(500), message: 'internal error' } };
}

/**
 * Installs {@link HttpErrorFilter} globally. Nest routes Fastify's own errors (invalid JSON, body too
 * large, wrong content type) through the global filters as HttpExceptions, so one filter covers all.
 */
export function installErrorHandling(app: INestApplication, logger: Logger): void {
  app.useGlobalFilters(new HttpErrorFilter(app.get(HttpAdapterHost), logger));
}
