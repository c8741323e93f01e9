// The EMAIL channel's own socket for nodemailer (coalescingSocket): it hands over a connected socket that carries
// bytes unchanged, and reports a refused connection as the error nodemailer classifies (a retry, not a failure).
import assert from 'node:assert/strict';
import net from 'node:net';
import { classifySmtpError, coalescingSocket } from '../../src/channels/email/email.js';

const connect = (port: number) =>
  new Promise<{ err: Error | null; socket?: net.Socket }>((resolve) => coalescingSocket({ host: '127.0.0.1', port }, (err, s) => resolve({ err, socket: s?.connection })));

describe('EMAIL channel socket', () => {
  it('connects, and what is written in one turn arrives whole and in order', async () => {
    const received: Buffer[] = [];
    const server = net.createServer((c) => c.on('data', (d) => received.push(d)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { err, socket } = await connect((server.address() as net.AddressInfo).port);
    assert.equal(err, null);
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i}\r\n`);
    for (const l of lines) socket!.write(l);
    socket!.end('.\r\n');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(Buffer.concat(received).toString(), `${lines.join('')}.\r\n`);
    server.close();
  });

  it('a refused connection is an error nodemailer passes on, and the channel retries it', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const { err, socket } = await connect(port);
    assert.equal(socket, undefined);
    assert.equal((err as NodeJS.ErrnoException).code, 'ECONNREFUSED');
    assert.equal(classifySmtpError(err).kind, 'retry');
  });
});
