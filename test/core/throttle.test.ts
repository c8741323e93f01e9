// A send's client: authenticated first, then counted against its rate limit (core/throttle.ts, SPEC §7 code 7).
import assert from 'node:assert/strict';
import { AuthError, ThrottledError, ValidationError } from '../../src/core/errors.js';
import type { ClientRecord, RateLimits, SendStore } from '../../src/core/ports.js';
import type { IntakeContext } from '../../src/core/send-request.js';
import { admittedClient } from '../../src/core/throttle.js';

function client(name: string, rateLimitPerSecond: number | null, id: number): ClientRecord {
  return {
    id,
    filesFolder: `client-${id}`,
    name,
    enabled: true,
    defaultFromAddress: 'a@example.com',
    defaultFromName: null,
    maxAttachments: null,
    maxAttachmentBytes: null,
    rateLimitPerSecond,
    jwt: { required: false, algorithms: [], secret: null, publicKey: null },
  } as ClientRecord;
}
const clients = [client('unlimited', null, 1), client('limited', 3, 2)];
const store = { findClient: async (k: string) => clients.find((c) => c.name === k) } as unknown as SendStore;
const ctx: IntakeContext = { intake: 'rest', correlationId: 'c-1' };

/** Our own port: answers the wait it is told to and records every call. */
function rateLimits(waitMs: number) {
  const calls: Array<[number, number]> = [];
  const port: RateLimits = {
    take: async (clientId, perSecond) => {
      calls.push([clientId, perSecond]);
      return waitMs;
    },
  };
  return { port, calls };
}

describe('throttle: admittedClient', () => {
  it('a client without a limit never consults the port', async () => {
    const limits = rateLimits(5000);
    assert.equal((await admittedClient({ store, rateLimits: limits.port }, 'unlimited', ctx)).name, 'unlimited');
    assert.deepEqual(limits.calls, []);
  });

  it('a limited client takes one from the port with its id and limit, and is admitted when there is no wait', async () => {
    const limits = rateLimits(0);
    assert.equal((await admittedClient({ store, rateLimits: limits.port }, 'limited', ctx)).id, 2);
    assert.deepEqual(limits.calls, [[2, 3]]);
  });

  it('a wait over 0 throws ThrottledError: code 7 with retryAfterMs, on clientHashKey', async () => {
    const limits = rateLimits(1500);
    const err = await admittedClient({ store, rateLimits: limits.port }, 'limited', ctx).then(
      () => assert.fail('expected a refusal'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ThrottledError);
    assert.equal(err.status, 7);
    assert.equal(err.retryAfterMs, 1500);
    assert.equal(err.issues[0]!.code, 7);
    assert.equal(err.issues[0]!.field, 'clientHashKey');
    assert.match(err.issues[0]!.text, /3 request\(s\) per second; retry after 2 s/);
  });

  it('without a rate-limit port a limited client is admitted', async () => {
    assert.equal((await admittedClient({ store }, 'limited', ctx)).name, 'limited');
  });

  it('an unknown key is refused with code 2 and costs no token; a missing key is code 1', async () => {
    const limits = rateLimits(1500);
    await assert.rejects(admittedClient({ store, rateLimits: limits.port }, 'nobody', ctx), (e: unknown) => e instanceof AuthError && e.status === 2);
    await assert.rejects(admittedClient({ store, rateLimits: limits.port }, '', ctx), (e: unknown) => e instanceof ValidationError && e.status === 1);
    assert.deepEqual(limits.calls, []);
  });
});
