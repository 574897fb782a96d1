import { getRedisConnectionToken } from '@nestjs-modules/ioredis';

/** Name of the command connection (scripts, reads). */
export const COMMANDS_CONNECTION = 'commands';
/** Name of the Pub/Sub connection (a subscribed connection can run nothing else). */
export const SUBSCRIBER_CONNECTION = 'subscriber';
/** Injection token of the command connection. */
export const COMMANDS = getRedisConnectionToken(COMMANDS_CONNECTION);
/** Injection token of the subscriber connection. */
export const SUBSCRIBER = getRedisConnectionToken(SUBSCRIBER_CONNECTION);
/** Name of the connection of confirmed writes (only with `REDIS_WAIT_REPLICAS` ≥ 1). */
export const WRITES_CONNECTION = 'writes';
/**
 * Injection token of the connection that accept, commit and set-stock run on: a connection of its
 * own with `REDIS_WAIT_REPLICAS` ≥ 1 (a blocked WAIT must not hold up other commands), else the
 * command connection.
 */
export const WRITES = Symbol('WRITES');
