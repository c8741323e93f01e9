// An in-process SMTP server that records what it receives; its answers can be scripted per test.
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';

export type Received = { envelopeFrom: string; envelopeTo: string[]; raw: Buffer; mail: ParsedMail };
/** Return an SMTP error code (and text) to refuse, or undefined to accept. */
export type Script = {
  onRcpt?: (address: string) => { code: number; text: string } | undefined;
  onData?: (raw: Buffer) => { code: number; text: string } | 'drop' | undefined;
  /** A slow server: wait this long before answering DATA. */
  delayMs?: number;
  /** The mail is taken (recorded), but its answer waits for this promise: a client that dies meanwhile never hears it. */
  holdAnswer?: Promise<unknown>;
};

export class SmtpSink {
  received: Received[] = [];
  script: Script = {};
  private server: SMTPServer;
  port = 0;

  constructor() {
    this.server = this.build();
  }

  /** Connection errors (a client killed mid-session resets its socket) are counted, not thrown. */
  connectionErrors = 0;

  private build(): SMTPServer {
    const server = this.create();
    server.on('error', () => this.connectionErrors++);
    return server;
  }

  private create(): SMTPServer {
    return new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      size: 200 * 1024 * 1024,
      onRcptTo: (address, _session, cb) => {
        const refuse = this.script.onRcpt?.(address.address);
        if (refuse) return cb(Object.assign(new Error(refuse.text), { responseCode: refuse.code }));
        cb();
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', async () => {
          const raw = Buffer.concat(chunks);
          if (this.script.delayMs) await new Promise((r) => setTimeout(r, this.script.delayMs));
          const verdict = this.script.onData?.(raw);
          if (verdict === 'drop') {
            (session as any).__socket?.destroy?.();
            return cb(Object.assign(new Error('connection dropped'), { responseCode: 421 }));
          }
          if (verdict) return cb(Object.assign(new Error(verdict.text), { responseCode: verdict.code }));
          const mail = await simpleParser(raw);
          this.received.push({
            envelopeFrom: (session.envelope.mailFrom as any)?.address ?? '',
            envelopeTo: session.envelope.rcptTo.map((r) => r.address),
            raw,
            mail,
          });
          const hold = this.script.holdAnswer;
          if (hold) await hold;
          cb();
        });
      },
    });
  }

  /** Starts (or restarts, on the same port) the server. */
  async start(port = 0): Promise<number> {
    if (port) this.server = this.build();
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', () => resolve()));
    this.port = (this.server.server.address() as AddressInfo).port;
    return this.port;
  }

  get url() {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async stop() {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Waits until `n` mails arrived (or throws after `ms`). */
  async waitFor(n: number, ms = 15000): Promise<Received[]> {
    const until = Date.now() + ms;
    while (this.received.length < n) {
      if (Date.now() > until) throw new Error(`expected ${n} mails, got ${this.received.length}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return this.received;
  }
}
