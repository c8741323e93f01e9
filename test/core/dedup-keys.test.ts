// The keys that make a retry safe (core/dedup-keys.ts): the strict key's sources and when the delivery key counts.
import assert from 'node:assert/strict';
import { dedupKeys, idempotencyKeyOf } from '../../src/core/dedup-keys.js';
import type { IntakeContext, Param } from '../../src/core/send-request.js';

const ctx = (o: Partial<IntakeContext> = {}): IntakeContext => ({ intake: 'amqp', correlationId: 'c-1', ...o });
const param = (key: string, value: string): Param => ({ key, value });
const delivery = { key: 'sha-of-message', redelivered: true };
const base = { payloadHash: 'p-hash', requestId: 'r-1', windowMs: 60_000 };

describe('dedup-keys', () => {
  it('the IDEMPOTENCY_KEY param wins over the intake key', () => {
    assert.equal(idempotencyKeyOf([param('OTHER', 'x'), param('IDEMPOTENCY_KEY', 'from-param')], ctx({ idempotencyKey: 'from-header' })), 'from-param');
  });

  it('without the param, the intake key (REST header, AMQP message_id); without either, none', () => {
    assert.equal(idempotencyKeyOf([param('OTHER', 'x')], ctx({ idempotencyKey: 'from-header' })), 'from-header');
    assert.equal(idempotencyKeyOf([], ctx()), undefined);
  });

  it('with a strict key the delivery key is left out; the other keys pass through', () => {
    assert.deepEqual(dedupKeys([param('IDEMPOTENCY_KEY', 'k')], ctx({ delivery }), base), { ...base, idempotencyKey: 'k', delivery: undefined });
    assert.deepEqual(dedupKeys([], ctx({ idempotencyKey: 'mid', delivery }), base), { ...base, idempotencyKey: 'mid', delivery: undefined });
  });

  it('without a strict key the delivery key is used', () => {
    assert.deepEqual(dedupKeys([], ctx({ delivery }), base), { ...base, idempotencyKey: undefined, delivery });
    assert.deepEqual(dedupKeys([], ctx(), { payloadHash: 'h', windowMs: 1 }), { payloadHash: 'h', windowMs: 1, idempotencyKey: undefined, delivery: undefined });
  });
});
