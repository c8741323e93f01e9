// The SMTP sink every mail scenario delivers into: accepts and counts, keeps nothing.
import http from 'node:http';
import { SMTPServer } from 'smtp-server';

let received = 0;
const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  size: 200 * 1024 * 1024,
  onData(stream, _s, cb) {
    stream.on('data', () => undefined);
    stream.on('end', () => {
      received++;
      cb();
    });
  },
});
// A client that dies mid-session resets its socket: count nothing, crash never.
smtp.on('error', () => undefined);
// A tiny HTTP side door tells the bench how many mails arrived.
const counter = http.createServer((_req, res) => res.end(String(received)));
smtp.listen(0, '127.0.0.1', () => {
  counter.listen(0, '127.0.0.1', () => console.log(`ready smtp=${(smtp.server.address() as any).port} count=${(counter.address() as any).port}`));
});
process.on('SIGTERM', () => process.exit(0));
