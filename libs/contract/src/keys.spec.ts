import { RedisKeys } from './keys';

describe('RedisKeys', () => {
  it('uses exactly the names of docs/design.md when no namespace is set', () => {
    const keys = new RedisKeys();
    expect([keys.order('o1'), keys.pending, keys.dead, keys.idempotency('k'), keys.lock('o1'), keys.stock('A-1')]).toEqual([
      'order:o1',
      'orders:pending',
      'orders:dead',
      'idem:k',
      'lock:o1',
      'stock:A-1',
    ]);
    expect(keys.orderUpdatesChannel).toBe('order_updates');
  });

  it('prefixes every key and both channels with REDIS_NAMESPACE', () => {
    const keys = new RedisKeys('staging');
    expect(keys.lock('o1')).toBe('staging:lock:o1');
    expect(keys.orderUpdatesChannel).toBe('staging:order_updates');
    expect(keys.orderStatusChannel).toBe('staging:order_status');
    expect(keys.stock('A')).toBe(`${keys.stockPrefix}A`);
    expect(keys.skuIndex.startsWith('staging:')).toBe(true);
  });
});
