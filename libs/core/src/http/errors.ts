import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus, type INestApplication } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Logger } from 'pino';
import type { FieldError } from '../envelope';

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
    super(
      { statusCode: status, error: status === HttpStatus.CONFLICT ? 'Conflict' : 'Bad Request', message: `${error.field} ${error.message}`, field: error.field },
      status,
    );
  }
}

/** 503 for a request that could not reach Redis; says plainly what was (not) done. */
export class RedisUnavailableException extends HttpException {
  constructor(message: string) {
    super({ statusCode: HttpStatus.SERVICE_UNAVAILABLE, error: 'Service Unavailable', message }, HttpStatus.SERVICE_UNAVAILABLE);
  }
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

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
    const body = toErrorBody(exception);
    if (body.statusCode >= 500 && body.statusCode !== 503) this.logger.error({ err: exception }, 'request failed');
    const { httpAdapter } = this.adapterHost;
    httpAdapter.reply(host.switchToHttp().getResponse(), body, body.statusCode);
  }
}

/** Maps any thrown value (Nest HttpException, Fastify error, other) to the JSON {@link ErrorBody}. */
export function toErrorBody(exception: unknown): ErrorBody {
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    if (typeof response === 'object' && response !== null && 'message' in response) {
      const r = response as Partial<ErrorBody> & { message: unknown };
      const message = Array.isArray(r.message) ? r.message.join('; ') : String(r.message);
      return { statusCode: status, error: r.error ?? REASONS[status] ?? 'Error', message, ...(r.field ? { field: r.field } : {}) };
    }
    const text = typeof response === 'string' ? response : JSON.stringify(response);
    // A plain-string HttpException is how Nest re-throws Fastify's body parser errors.
    if (status === 413) return { statusCode: 413, error: REASONS[413], message: 'request body is larger than 64 KiB', field: 'body' };
    if (status === 400 || status === 415) return { statusCode: status, error: REASONS[status], message: `body is invalid: ${text}`, field: 'body' };
    return { statusCode: status, error: REASONS[status] ?? 'Error', message: text };
  }
  // Fastify's own errors (FST_ERR_CTP_INVALID_JSON_BODY, FST_ERR_CTP_BODY_TOO_LARGE, …) carry statusCode.
  const e = exception as { statusCode?: unknown; message?: unknown; code?: unknown };
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const status = e.statusCode;
    let message = typeof e.message === 'string' ? e.message : 'invalid request';
    if (status === 413) message = 'request body is larger than 64 KiB';
    if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') message = `body is not valid JSON: ${message}`;
    return { statusCode: status, error: REASONS[status] ?? 'Error', message, ...(status === 400 ? { field: 'body' } : {}) };
  }
  return { statusCode: 500, error: 'Internal Server Error', message: 'internal error' };
}

/**
 * Installs {@link HttpErrorFilter} globally. Nest routes Fastify's own errors (invalid JSON, body too
 * large, wrong content type) through the global filters as HttpExceptions, so one filter covers all.
 */
export function installErrorHandling(app: INestApplication, logger: Logger): void {
  app.useGlobalFilters(new HttpErrorFilter(app.get(HttpAdapterHost), logger));
}
