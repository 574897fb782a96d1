import { buildEnvelope, parseEnvelope, validateItems } from './envelope';

const valid = () => buildEnvelope('o-1', [{ sku: 'A-1', quantity: 2 }], '2026-01-01T00:00:00.000Z', { traceparent: '00-abc-def-01' });

describe('parseEnvelope', () => {
  it('accepts what buildEnvelope produces', () => {
    const parsed = parseEnvelope(JSON.stringify(valid()));
    expect(parsed).toEqual({ ok: true, value: valid() });
  });

  it.each([
    ['not JSON', 'nope', '$'],
    ['an array', '[]', '$'],
    ['another version', JSON.stringify({ ...valid(), v: 2 }), 'v'],
    ['another type', JSON.stringify({ ...valid(), type: 'OrderShipped' }), 'type'],
    ['a bad orderId', JSON.stringify({ ...valid(), orderId: 'a b' }), 'orderId'],
    ['no items', JSON.stringify({ ...valid(), items: [] }), 'items'],
    ['a bad quantity', JSON.stringify({ ...valid(), items: [{ sku: 'A', quantity: 0 }] }), 'items[0].quantity'],
    ['a bad createdAt', JSON.stringify({ ...valid(), createdAt: 'yesterday' }), 'createdAt'],
    ['non-string trace headers', JSON.stringify({ ...valid(), trace: { a: 1 } }), 'trace'],
  ])('rejects %s, naming the field', (_what, raw, field) => {
    const parsed = parseEnvelope(raw);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.field).toBe(field);
  });
});

describe('validateItems', () => {
  it('allows 100 items and refuses 101', () => {
    const item = { sku: 'A', quantity: 1 };
    expect(validateItems(Array(100).fill(item)).ok).toBe(true);
    expect(validateItems(Array(101).fill(item))).toMatchObject({ ok: false, error: { field: 'items' } });
  });

  it('refuses unknown fields inside an item', () => {
    expect(validateItems([{ sku: 'A', quantity: 1, price: 3 }])).toMatchObject({ ok: false, error: { field: 'items[0].price' } });
  });
});
