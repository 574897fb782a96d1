import { createHash, timingSafeEqual } from 'node:crypto';
import {
  type CanActivate,
  type ExecutionContext,
  HttpStatus,
  Inject,
  Injectable,
  NotFoundException,
  UnauthorizedException,
} from '@nestjs/common';

/** Injection token of the admin bearer token (`ADMIN_TOKEN`), undefined when the admin API is off. */
export const ADMIN_TOKEN = Symbol('ADMIN_TOKEN');

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * The admin routes answer only `Authorization: Bearer <ADMIN_TOKEN>`: 401 without it or with
 * another token (compared in constant time, over digests so the length does not show either), and
 * 404, as if they did not exist, when no token is configured.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly expected: Buffer | undefined;

  constructor(@Inject(ADMIN_TOKEN) token: string | undefined) {
    this.expected = token === undefined ? undefined : digest(token);
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) {
      throw new NotFoundException({
        statusCode: HttpStatus.NOT_FOUND,
        error: 'Not Found',
        message: 'the admin API is off: ADMIN_TOKEN is not set',
      });
    }
    const http = context.switchToHttp();
    const header = http.getRequest<{ headers: Record<string, string | string[] | undefined> }>().headers.authorization;
    const presented = typeof header === 'string' ? /^Bearer (\S+)$/i.exec(header.trim())?.[1] : undefined;
    if (presented === undefined || !timingSafeEqual(digest(presented), this.expected)) {
      http.getResponse<{ header(name: string, value: string): unknown }>().header('WWW-Authenticate', 'Bearer realm="orders-admin"');
      throw new UnauthorizedException({
        statusCode: HttpStatus.UNAUTHORIZED,
        error: 'Unauthorized',
        message: presented === undefined ? 'Authorization: Bearer <ADMIN_TOKEN> is required' : 'the bearer token is not the ADMIN_TOKEN',
        field: 'Authorization',
      });
    }
    return true;
  }
}
