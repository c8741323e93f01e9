// Rows of clients and templates as the core's records, and bytea as a Buffer: shared by every store query that reads them.
import { parseAlgorithms } from '../core/auth.js';
import type { ClientRecord } from '../core/ports.js';
import type { TemplateVersion } from '../core/render.js';
import { isSealed, openSecret } from '../core/secrets.js';
import { filesFolderOf } from './clients.js';

export type Row = Record<string, any>;

/** bytea comes back as a Buffer from pg but as a plain Uint8Array from PGlite: one type for the rest. */
export function asBuffer(v: Uint8Array): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** A JWT secret is opened only here, for the verification that needs it; one still in clear is not used (sealStoredSecrets). */
function jwtSecretOf(stored: string | null, secretsKey: Buffer | undefined): string | null {
  if (stored === null || !secretsKey || !isSealed(stored)) return null;
  try {
    return openSecret(secretsKey, stored);
  } catch {
    return null;
  }
}

export function clientFromRow(r: Row, secretsKey?: Buffer): ClientRecord {
  return {
    id: r.id,
    name: r.name,
    enabled: r.enabled,
    defaultFromAddress: r.default_from_address,
    defaultFromName: r.default_from_name,
    maxAttachments: r.max_attachments,
    maxAttachmentBytes: r.max_attachment_bytes === null ? null : Number(r.max_attachment_bytes),
    rateLimitPerSecond: r.rate_limit_per_second ?? null,
    jwt: { required: r.jwt_required, algorithms: parseAlgorithms(r.jwt_algorithms), secret: jwtSecretOf(r.jwt_secret, secretsKey), publicKey: r.jwt_public_key },
    filesFolder: filesFolderOf(r as { id: number; files_folder: string | null }),
  };
}

export function templateFromRow(r: Row): TemplateVersion {
  return {
    id: r.id,
    messageType: r.message_type,
    version: r.version,
    subject: r.subject,
    textBody: r.text_body,
    htmlBody: r.html_body,
    defaultChannel: r.default_channel,
  };
}
