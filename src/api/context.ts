// The koa state every route sees (set by http.ts) and the router and context types of the HTTP APIs.
import type Router from '@koa/router';
import type { RouterContext } from '@koa/router';
import type { Logger } from 'pino';

export type State = {
  correlationId: string;
  log: Logger;
  /** The send API's body form, known before its body is read: its errors answer in it (adapters/rest/answer.ts). */
  sendForm?: 'jsonapi' | 'json';
  /** The client a portal key belongs to (api/portal.ts guard). */
  portalClientId?: number;
};
export type ApiRouter = Router<State>;
export type ApiContext = RouterContext<State>;
