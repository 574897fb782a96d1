import { getRedisConnectionToken } from '@nestjs-modules/ioredis';

/** Name of the command connection (scripts, reads). */
export const COMMANDS_CONNECTION = 'commands';
/** Name of the Pub/Sub connection (a subscribed connection can run nothing else). */
export const SUBSCRIBER_CONNECTION = 'subscriber';
/** Injection token of the command connection. */
export const COMMANDS = getRedisConnectionToken(COMMANDS_CONNECTION);
/** Injection token of the subscriber connection. */
export const SUBSCRIBER = getRedisConnectionToken(SUBSCRIBER_CONNECTION);
