// EMAIL channel: nodemailer over pooled SMTP when SMTP_URL is set, else .eml files in the outbox (SPEC §4, §9).
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { Transporter } from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer/index.js';
import { splitAddressList } from '../../core/send-request.js';
import { FileTaken, writeNew } from '../../documents/archive.js';
import type { StoredMessage } from '../../core/delivery.js';
import { codeOf, type Channel, type Outcome } from '../channel.js';

/** messageIdDomain: the domain of every Message-ID (MESSAGE_ID_DOMAIN), else each message's from-address domain; timeoutMs: SMTP connection, greeting and socket timeout. */
export type EmailOptions = { smtpUrl?: string; poolSize: number; outboxDir: string; messageIdDomain?: string; timeoutMs: number };

// Connection trouble is worth another try; so is anything unexpected (Postal's rule: only 5xx is hard).
const RETRYABLE_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNRESET', 'ECONNREFUSED', 'EPROTOCOL']);

/** The domain of the from-address (hosts and retries agree on it, unlike a host name); 'hammy' when it has none. */
export function messageIdDomainOf(fromAddress: string | null | undefined): string {
  const domain = (fromAddress ?? '').slice((fromAddress ?? '').lastIndexOf('@') + 1).toLowerCase();
  return /^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$/.test(domain) ? domain : 'hammy';
}

export function mailFor(m: StoredMessage, domain = messageIdDomainOf(m.fromAddress)): Mail.Options {
  const cc = splitAddressList(m.recipientEmailAddressCC).map((address, i) => (i === 0 && m.recipientNameCC ? { name: m.recipientNameCC, address } : address));
  return {
    // One Message-ID per message on every host and retry: a receiver can drop the copy a crash makes us send.
    messageId: `<hammy.${m.id}@${domain}>`,
    from: m.fromName ? { name: m.fromName, address: m.fromAddress } : m.fromAddress,
    to: { name: m.recipientName, address: m.recipientEmailAddress! },
    cc: cc.length ? cc : undefined,
    bcc: splitAddressList(m.bccAddress),
    replyTo: m.replyToAddress ? (m.replyToName ? { name: m.replyToName, address: m.replyToAddress } : m.replyToAddress) : undefined,
    subject: m.subject,
    text: m.textBody ?? undefined,
    html: m.htmlBody ?? undefined,
    attachments: m.attachments.map((a) => ({ filename: a.fileName, content: a.content })),
    headers: { 'X-Hammy-Message-Id': String(m.id) },
  };
}

/** What the SMTP server answered, fit to show a client (issue 15 point 6): no control characters, at most 200 characters. */
export function smtpReplyText(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);
}

/** The SMTP reply (code and text) may be shown; any other error is named by its code only, the rest goes to the log. */
export function classifySmtpError(err: unknown): Outcome {
  const e = err as { responseCode?: number; code?: string; response?: string };
  const reply = `SMTP ${e.responseCode}: ${smtpReplyText(e.response ?? '')}`;
  if (typeof e.responseCode === 'number' && e.responseCode >= 500) return { kind: 'failed', reason: reply, detail: err };
  if (typeof e.responseCode === 'number' && e.responseCode >= 400) return { kind: 'retry', reason: reply, detail: err };
  if (e.code && RETRYABLE_CODES.has(e.code)) return { kind: 'retry', reason: `SMTP server not reachable (${e.code})`, detail: err };
  return { kind: 'retry', reason: 'SMTP delivery failed unexpectedly', detail: err };
}

/**
 * nodemailer's getSocket hook: a plain TCP connection whose writes made in one turn of the event loop leave
 * together. nodemailer streams a mail to the socket as many small chunks (headers, each part, each encoded
 * line), each its own system call otherwise: about an eighth of the CPU a delivery costs. TLS (smtps:, STARTTLS)
 * is still nodemailer's: it upgrades this socket as it would its own.
 */
export function coalescingSocket(options: { host?: string; port?: number; connectionTimeout?: number }, callback: (err: Error | null, socket?: { connection: net.Socket }) => void): void {
  const socket = net.connect({ host: options.host ?? 'localhost', port: options.port ?? 25 });
  const write = socket.write;
  let corked = false;
  socket.write = function (this: net.Socket, ...args: unknown[]) {
    if (!corked) {
      corked = true;
      this.cork();
      setImmediate(() => {
        corked = false;
        socket.uncork();
      });
    }
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as typeof socket.write;
  const fail = (err: Error) => {
    socket.destroy();
    callback(err);
  };
  socket.setTimeout(options.connectionTimeout ?? 120_000, () => fail(Object.assign(new Error('Connection timeout'), { code: 'ETIMEDOUT' })));
  socket.once('error', fail);
  socket.once('connect', () => {
    socket.setTimeout(0);
    socket.off('error', fail);
    callback(null, { connection: socket });
  });
}

/** nodemailer is loaded with the first mail, not at start (cold start). */
const loadNodemailer = () => import('nodemailer').then((m) => m.default);

export function createEmailChannel(o: EmailOptions): Channel {
  if (o.smtpUrl) {
    let made: Promise<Transporter> | undefined;
    // A server that accepts and then says nothing fails the mail (ETIMEDOUT: a retry) instead of holding its lease.
    const timeouts = { connectionTimeout: o.timeoutMs, greetingTimeout: o.timeoutMs, socketTimeout: o.timeoutMs };
    const transport = () => (made ??= loadNodemailer().then((n) => n.createTransport({ url: o.smtpUrl, pool: true, maxConnections: o.poolSize, getSocket: coalescingSocket, ...timeouts } as any)));
    return {
      async deliver(m) {
        try {
          const info = await (await transport()).sendMail(mailFor(m, o.messageIdDomain));
          const rejected = (info.rejected ?? []).map(String);
          return { kind: 'sent', ref: `${smtpReplyText(String(info.response ?? ''))}${rejected.length ? `; rejected: ${rejected.join(', ')}` : ''}`.slice(0, 500) };
        } catch (err) {
          return classifySmtpError(err);
        }
      },
      async close() {
        // A transport is made with the first mail; none was, or its making failed: nothing to close.
        (await made?.catch(() => undefined))?.close();
      },
    };
  }
  let made: Promise<Transporter> | undefined;
  const stream = () => (made ??= loadNodemailer().then((n) => n.createTransport({ streamTransport: true, buffer: true, newline: 'unix' })));
  return {
    async deliver(m) {
      try {
        const info = await (await stream()).sendMail(mailFor(m, o.messageIdDomain));
        await fs.mkdir(o.outboxDir, { recursive: true });
        const file = path.join(o.outboxDir, `${m.id}.eml`);
        // A reader never sees half a mail; a mail of an earlier attempt of this message is replaced, another's kept.
        await writeNew(file, info.message as Buffer, (existing) => sameMail(existing, info.message as Buffer));
        return { kind: 'sent', ref: `file ${path.basename(file)}` };
      } catch (err) {
        // Another message's file in the way is said by its name (no path); anything else by its error code only.
        if (err instanceof FileTaken) return { kind: 'retry', reason: `e-mail outbox: ${err.message}` };
        return { kind: 'retry', reason: `e-mail outbox not writable${codeOf(err)}`, detail: err };
      }
    },
    async close() {},
  };
}

/** The headers that say which message a mail is for; Date and MIME boundaries differ on every rendering. */
const IDENTITY = ['message-id', 'x-hammy-message-id', 'subject', 'to'];
function identity(mail: Buffer): string[] {
  const head = mail.toString('utf8', 0, Math.max(0, mail.indexOf('\n\n'))).replace(/\r?\n[ \t]+/g, ' ');
  const fields = new Map(head.split(/\r?\n/).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return IDENTITY.map((h) => fields.get(h) ?? '');
}
/** An outbox file of an earlier attempt of this same message (a crash after the write, before SENT was recorded). */
function sameMail(existing: Buffer, mail: Buffer): boolean {
  const [a, b] = [identity(existing), identity(mail)];
  return a[1] !== '' && a.every((v, i) => v === b[i]);
}
