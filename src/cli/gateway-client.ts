// The command-line tool's side of HTTP: JSON:API calls to a running gateway, with errors a person can read.
export type Connection = { url: string; key?: string; adminToken?: string };

/** A refusal or a transport failure, already worded for the terminal. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

type Call = { method?: string; body?: unknown; auth: 'client' | 'admin' | 'none'; contentType?: string; raw?: string };

type Source = { pointer?: string; header?: string; parameter?: string; field?: string; part?: string };
type ProblemIssue = { code?: number; text?: string; source?: Source };
const whereOf = (s: Source | undefined) => s?.parameter ?? s?.header ?? s?.pointer ?? s?.field ?? s?.part;

/** An RFC 9457 problem (every API but send): each issue with its SPEC §7 code and where it points. */
function problemText(status: number, p: { status?: number; code?: number; detail?: string; issues?: ProblemIssue[] }): string {
  const issues = Array.isArray(p.issues) && p.issues.length ? p.issues : [{ code: p.code, text: p.detail }];
  return issues
    .map((i) => {
      const where = whereOf(i.source);
      return `${p.status ?? status}${i.code !== undefined ? ` (code ${i.code})` : ''}: ${i.text ?? ''}${where ? ` [${where}]` : ''}`;
    })
    .join('\n');
}

/** What the gateway said went wrong: each problem issue or JSON:API error, with the field it names. */
export function errorText(status: number, body: any): string {
  if (body && typeof body === 'object' && typeof body.type === 'string' && typeof body.title === 'string' && !('errors' in body)) return problemText(status, body);
  const errors: any[] = Array.isArray(body?.errors) ? body.errors : [];
  if (!errors.length) return `HTTP ${status}${typeof body === 'string' && body ? `: ${body.slice(0, 200)}` : ''}`;
  return errors
    .map((e) => {
      const where = e.source?.parameter ?? e.source?.header ?? e.source?.pointer;
      return `${e.status ?? status}${e.code ? ` (code ${e.code})` : ''}: ${e.title}${where ? ` [${where}]` : ''}`;
    })
    .join('\n');
}

export async function call(conn: Connection, path: string, o: Call): Promise<any> {
  const headers: Record<string, string> = { accept: 'application/vnd.api+json' };
  if (o.auth === 'client') {
    if (!conn.key) throw new CliError('a client key is needed: --key or HAMMY_CLIENT_KEY');
    headers['x-client-hash-key'] = conn.key;
  }
  if (o.auth === 'admin') {
    if (!conn.adminToken) throw new CliError('the admin token is needed: --admin-token or HAMMY_ADMIN_TOKEN');
    headers.authorization = `Bearer ${conn.adminToken}`;
  }
  const body = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
  if (body !== undefined) headers['content-type'] = o.contentType ?? 'application/vnd.api+json';
  let res: Response;
  try {
    res = await fetch(new URL(path, conn.url), { method: o.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(`cannot reach the gateway at ${conn.url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
  }
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: keep the text for the message */
  }
  if (!res.ok) {
    const hint = res.status === 404 && path.startsWith('/hammy/admin/') ? '\n(is ADMIN_TOKEN set on the gateway?)' : '';
    throw new CliError(errorText(res.status, parsed) + hint);
  }
  return parsed;
}

/** Plain text over HTTP, for SOAP. */
export async function postText(conn: Connection, path: string, body: string, contentType: string): Promise<{ status: number; text: string }> {
  try {
    const res = await fetch(new URL(path, conn.url), { method: 'POST', headers: { 'content-type': contentType }, body });
    return { status: res.status, text: await res.text() };
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause;
    throw new CliError(`cannot reach the gateway at ${conn.url}: ${cause?.code ?? (e as Error).message}`);
  }
}
