import { serializeError } from './logger';

describe('serializeError', () => {
  it('keeps the message and the Redis command name, never its arguments (an AUTH password)', () => {
    // The shape of ioredis's ReplyError for a refused AUTH.
    const error = Object.assign(new Error('WRONGPASS invalid username-password pair or user is disabled.'), {
      command: { name: 'auth', args: ['eo', 's3cret'] },
    });
    const serialized = serializeError(error);
    expect(serialized).toMatchObject({ command: { name: 'auth' } });
    expect(serialized.message).toMatch(/^WRONGPASS/);
    expect(JSON.stringify(serialized)).not.toContain('s3cret');
  });

  it('leaves other errors as pino serializes them', () => {
    expect(serializeError(new Error('boom'))).toMatchObject({ type: 'Error', message: 'boom' });
  });
});
