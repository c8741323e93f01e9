// SOAP intake: our envelope check, then node-soap's WSDL-driven parsing calling sendMail/resendMail/getMessageStatus (SPEC §2).
import fs from 'node:fs';
import * as soap from 'soap';
import { XMLBuilder } from 'fast-xml-parser';
import type { Logger } from 'pino';
import { ValidationError, type Issue, type SendError } from '../../core/errors.js';
import { acceptRequests, type Caller, type Operation } from '../../core/requests.js';
import type { SendRequestInput } from '../../core/send-request.js';
import { checkEnvelope, faultXml, SOAP_ENV_NS } from './envelope.js';
import { withoutXmlData } from '../forms/xml-request.js';
import { resendInputFromSoap, sendInputFromSoap, soapAnswer, soapError } from './mapping.js';
import { messageStatusOperation, type StatusReads } from './status.js';

export type SoapOperations = { send: Operation; resend: Operation; status: StatusReads };
export type SoapReply = { status: number; body: string };

const WSDL_LOCATION = 'http://localhost:8080/hammy/soap/send/v2';
const CORRELATION_HEADER = 'x-correlation-id';
// Ints, longs and booleans reach us as written, so the core reports a bad value with its field instead of
// node-soap silently turning "abc" into null or "yes" into false.
const raw = (t: string) => t;
const responseXml = new XMLBuilder({ suppressEmptyNode: true });

// node-soap hands our headers object to the operation as it is: an xmlData over the bounds rides on it under a
// key no caller can send.
const XML_DATA_ISSUE = Symbol('xmlDataIssue');
type Headers = Record<string, string> & { [XML_DATA_ISSUE]?: Issue };

export async function createSoapAdapter(wsdlPath: string, ops: SoapOperations, log: Logger) {
  const wsdlXml = fs.readFileSync(wsdlPath, 'utf8');
  const callerOf = (req: { headers?: Record<string, string> }): Caller => ({
    intake: 'soap',
    correlationId: req?.headers?.[CORRELATION_HEADER] ?? 'unknown',
    origin: req?.headers?.['x-origin'],
    issuer: req?.headers?.['x-issuer'],
    authorization: req?.headers?.authorization,
  });
  // Service methods never throw: a business error is a normal response with status.code != 0.
  const operation =
    (toInput: (a: Record<string, unknown>) => SendRequestInput, run: SoapOperations['send']) =>
    async (args: Record<string, unknown>, _cb: unknown, _headers: unknown, req: { headers?: Headers }) => {
      const caller = callerOf(req);
      const xmlDataIssue = req?.headers?.[XML_DATA_ISSUE];
      const item = xmlDataIssue ? new ValidationError([xmlDataIssue]) : toInput(args);
      const [a] = await acceptRequests(run, { batch: false, items: [item] }, caller, {}, {
        onInternal: (err) => log.error({ err, correlationId: caller.correlationId }, 'sendMail failed'),
      });
      return a!.ok ? soapAnswer(a!.answer) : soapError(a!.error);
    };
  const status = messageStatusOperation(ops.status, (err, correlationId) => log.error({ err, correlationId }, 'getMessageStatus failed'));
  const services = {
    SendServiceV2: {
      SendPortV2: {
        sendMail: operation(sendInputFromSoap, ops.send),
        resendMail: operation(resendInputFromSoap, ops.resend),
        getMessageStatus: (args: Record<string, unknown>, _cb: unknown, _headers: unknown, req: { headers?: Headers }) => status(args, callerOf(req)),
      },
    },
  };
  const server = await soap.createServerless({
    path: '/hammy/soap/send/v2',
    services,
    xml: wsdlXml,
    suppressStack: true,
    returnFault: true,
    customDeserializer: { int: raw, long: raw, boolean: raw },
  } as any);

  return {
    /** The WSDL file with its address pointing at the host the caller used. */
    wsdl(baseUrl: string): string {
      return wsdlXml.replace(WSDL_LOCATION, `${baseUrl}/hammy/soap/send/v2`);
    },

    /**
     * A refusal decided before the body is read (e.g. an unknown client key in a header): the operation's own response
     * with its status. The body is not read, so the operation is the one SOAPAction names (sendMail when it names none).
     */
    refusal(err: SendError, soapAction = ''): SoapReply {
      const inner = responseXml.build(soapError(err)) as string;
      const op = /resendMail/i.test(soapAction) ? 'resendMailResponse' : /getMessageStatus/i.test(soapAction) ? 'getMessageStatusResponse' : 'sendMailResponse';
      return {
        status: 200,
        body: `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${SOAP_ENV_NS}" xmlns:tns="http://send.api.hammy.dbx.hu/"><soap:Body><tns:${op}>${inner}</tns:${op}></soap:Body></soap:Envelope>`,
      };
    },

    async handle(body: string, headers: Record<string, string>, correlationId: string): Promise<SoapReply> {
      const check = checkEnvelope(body);
      if (!check.ok) return { status: 500, body: faultXml('soap:Client', check.reason) };
      // An xmlData beyond the XML bounds is not given to node-soap (it would build it, level by level): the
      // rest of the request is read as usual and answered with code 1 on xmlData.
      const xmlDataIssue = check.xmlDataIssue;
      if (xmlDataIssue) body = withoutXmlData(body);
      try {
        const soapHeaders: Headers = { ...headers, [CORRELATION_HEADER]: correlationId, ...(xmlDataIssue ? { [XML_DATA_ISSUE]: xmlDataIssue } : {}) };
        const res = await server.processRequest(body, { headers: soapHeaders } as any);
        // Anything node-soap itself failed on (its own faults, stack texts) becomes our Fault without detail.
        if (res.statusCode !== 200 || !res.body.includes('Response>')) {
          log.warn({ correlationId, status: res.statusCode }, 'node-soap could not read the request');
          return { status: 500, body: faultXml('soap:Client', 'the request could not be read against the WSDL') };
        }
        return { status: 200, body: res.body };
      } catch (e) {
        log.error({ err: e, correlationId }, 'SOAP processing failed');
        return { status: 500, body: faultXml('soap:Server', `internal error (correlation id ${correlationId})`) };
      }
    },
  };
}
export type SoapAdapter = Awaited<ReturnType<typeof createSoapAdapter>>;
