// Structured logs (pino); secrets and message content are redacted wherever they might be logged.
import pino, { type Logger } from 'pino';

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'hammy-gateway' },
    redact: {
      paths: [
        'clientHashKey', '*.clientHashKey', 'req.headers.authorization', 'req.headers["x-client-hash-key"]',
        'password', '*.password', 'content', '*.content', 'mailBody', '*.mailBody', 'mailHtmlBody', '*.mailHtmlBody', 'xmlData', '*.xmlData',
      ],
      censor: '[redacted]',
    },
  });
}

/** A child logger made on first use: most requests never log, and pino serialises a child's bindings when it is made. */
export function lazyChild(log: Logger, bindings: Record<string, unknown>): () => Logger {
  let child: Logger | undefined;
  return () => (child ??= log.child(bindings));
}
