import { MAX_WAIT_MS, validateIdempotencyKey, validateOrderIdParam, validatePlaceOrder, validateWaitMs } from './order-request.validation';

const item = (sku = 'A-1', quantity: unknown = 2): Record<string, unknown> => ({ sku, quantity });
const body = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({ items: [item()], ...overrides });

/** The sentence the 400 response will carry: `<field> <message>`. */
function problem(result: ReturnType<typeof validatePlaceOrder>): string {
  if (result.ok) throw new Error('expected a validation error');
  return `${result.error.field} ${result.error.message}`;
}

describe('validatePlaceOrder', () => {
  it('accepts items alone and returns them rebuilt without extra keys', () => {
    expect(validatePlaceOrder(body())).toEqual({ ok: true, value: { items: [{ sku: 'A-1', quantity: 2 }] } });
  });

  it('accepts a client-chosen orderId', () => {
    expect(validatePlaceOrder(body({ orderId: 'client_1-x' }))).toEqual({
      ok: true,
      value: { items: [{ sku: 'A-1', quantity: 2 }], orderId: 'client_1-x' },
    });
  });

  it.each([
    ['null', null],
    ['an array', [item()]],
    ['a string', 'items'],
    ['a number', 7],
    ['absent', undefined],
  ])('refuses a body that is %s', (_, value) => {
    expect(problem(validatePlaceOrder(value))).toBe('body must be a JSON object');
  });

  it('refuses an unknown top-level field, naming it', () => {
    expect(problem(validatePlaceOrder(body({ orderID: 'x' })))).toBe('orderID is not a known field');
  });

  it('refuses missing items and an empty or oversized item list', () => {
    expect(problem(validatePlaceOrder({}))).toBe('items must be an array');
    expect(problem(validatePlaceOrder({ items: [] }))).toBe('items must hold 1 to 100 items');
    expect(problem(validatePlaceOrder({ items: Array.from({ length: 101 }, () => item()) }))).toBe('items must hold 1 to 100 items');
  });

  it('accepts exactly 100 items', () => {
    expect(validatePlaceOrder({ items: Array.from({ length: 100 }, () => item()) }).ok).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['65 characters long', 'S'.repeat(65)],
    ['holding a space', 'A 1'],
    ['holding a slash', 'A/1'],
  ])('refuses a sku that is %s, naming its position', (_, sku) => {
    expect(problem(validatePlaceOrder({ items: [item(), item(sku)] }))).toBe(
      'items[1].sku must be 1 to 64 characters of A-Z a-z 0-9 . _ : -',
    );
  });

  it.each([
    ['zero', 0],
    ['fractional', 1.5],
    ['above a million', 1_000_001],
    ['a numeric string', '2'],
    ['negative', -1],
  ])('refuses a quantity that is %s', (_, quantity) => {
    expect(problem(validatePlaceOrder({ items: [item(), item(), item('A-1', quantity)] }))).toBe(
      'items[2].quantity must be an integer from 1 to 1000000',
    );
  });

  it('refuses an unknown field inside an item', () => {
    expect(problem(validatePlaceOrder({ items: [{ ...item(), price: 3 }] }))).toBe('items[0].price is not a known field');
  });

  it.each([
    ['bad characters', 'order#1'],
    ['65 characters', 'o'.repeat(65)],
    ['empty', ''],
    ['null', null],
    ['a number', 12],
  ])('refuses an orderId with %s', (_, orderId) => {
    expect(problem(validatePlaceOrder(body({ orderId })))).toBe('orderId must be 1 to 64 characters of A-Z a-z 0-9 _ -');
  });
});

describe('validateIdempotencyKey', () => {
  it('treats an absent header as no key', () => {
    expect(validateIdempotencyKey(undefined)).toEqual({ ok: true, value: undefined });
  });

  it('accepts 1 to 128 characters of the allowed set', () => {
    expect(validateIdempotencyKey('a')).toEqual({ ok: true, value: 'a' });
    expect(validateIdempotencyKey('Key_1.2:3-4')).toEqual({ ok: true, value: 'Key_1.2:3-4' });
    expect(validateIdempotencyKey('k'.repeat(128)).ok).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['129 characters', 'k'.repeat(129)],
    ['a space', 'a b'],
    ['a slash', 'a/b'],
    ['two joined headers', 'a, b'],
  ])('refuses a key that is %s', (_, key) => {
    const result = validateIdempotencyKey(key);
    expect(result).toEqual({
      ok: false,
      error: { field: 'Idempotency-Key', message: 'must be 1 to 128 characters of A-Z a-z 0-9 _ . : -' },
    });
  });
});

describe('validateWaitMs', () => {
  it('means no wait when absent', () => {
    expect(validateWaitMs(undefined)).toEqual({ ok: true, value: 0 });
  });

  it('accepts integers from 0 to the maximum', () => {
    expect(validateWaitMs('0')).toEqual({ ok: true, value: 0 });
    expect(validateWaitMs(String(MAX_WAIT_MS))).toEqual({ ok: true, value: MAX_WAIT_MS });
  });

  it.each([['-1'], ['30001'], ['1.5'], ['abc'], [''], ['1e3'], [['1', '2']]])('refuses %p', (value) => {
    expect(validateWaitMs(value)).toEqual({ ok: false, error: { field: 'waitMs', message: 'must be an integer from 0 to 30000' } });
  });
});

describe('validateOrderIdParam', () => {
  it('accepts a valid id and refuses a malformed one as field id', () => {
    expect(validateOrderIdParam('abc-1')).toEqual({ ok: true, value: 'abc-1' });
    expect(validateOrderIdParam('a.b')).toEqual({
      ok: false,
      error: { field: 'id', message: 'must be 1 to 64 characters of A-Z a-z 0-9 _ -' },
    });
  });
});
