// The normalised fingerprint of a request, equal for the SOAP, REST and AMQP forms of one request (SPEC §6).
import { createHash } from 'node:crypto';
import { SpooledFile } from './send-request.js';

function canonical(value: unknown): unknown {
  // Bytes count by their digest, wherever they wait: a base64 attachment and a multipart part of the same file are equal.
  if (Buffer.isBuffer(value)) return { sha256: createHash('sha256').update(value).digest('hex') };
  if (value instanceof SpooledFile) return { sha256: value.sha256 };
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
      out[k] = canonical(v);
    }
    return out;
  }
  return value;
}

export function payloadHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(canonical(value))).digest('hex');
}
