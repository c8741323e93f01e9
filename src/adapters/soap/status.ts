// getMessageStatus: the status API's message read (SPEC §5) over SOAP, scoped to the calling client.
import { clientOf } from '../../core/auth.js';
import { NotFound, toSendError } from '../../core/errors.js';
import type { SendStore } from '../../core/ports.js';
import type { Caller } from '../../core/requests.js';
import { validateMessageRef } from '../../core/validate.js';
import type { MessageQueries } from '../../store/messages.js';
import { isObj, type Obj } from '../forms/xml-request.js';
import { soapError } from './mapping.js';

/** The reads getMessageStatus needs: the client by its key, and the status API's own queries. */
export type StatusReads = { store: SendStore; messages: Pick<MessageQueries, 'message' | 'events'> };

export function messageStatusOperation(reads: StatusReads, onInternal: (err: unknown, correlationId: string) => void) {
  return async (args: Obj, caller: Caller) => {
    const input = isObj(args.request) ? args.request : {};
    try {
      const client = await clientOf(reads.store, input.clientHashKey, caller);
      const { messageId } = validateMessageRef(input);
      // Another client's message is "not found" exactly like a missing one: existence never leaks (SPEC §5).
      const row = await reads.messages.message(client.id, messageId);
      if (!row) throw new NotFound(`message ${messageId} not found`);
      const events = await reads.messages.events(client.id, messageId);
      return {
        response: {
          messageId: row.id,
          status: { code: 0, messages: {} },
          messageStatus: row.status,
          final: row.final,
          channel: row.channel,
          events: { event: events.map((e) => ({ status: e.status, reason: e.reason ?? undefined, createdAt: new Date(e.created_at).toISOString() })) },
        },
      };
    } catch (e) {
      const error = toSendError(e, caller.correlationId);
      if (error.status === 9) onInternal(e, caller.correlationId);
      const { params: _none, ...response } = soapError(error).response;
      return { response };
    }
  };
}
