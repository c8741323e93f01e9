// Speaks JSON to the gateway's JSON:API read and management endpoints.
export type ApiResult = { status: number; body: any; headers: Headers };

export async function api(
  baseUrl: string,
  path: string,
  o: { key?: string; method?: string; body?: unknown; headers?: Record<string, string>; contentType?: string } = {},
): Promise<ApiResult> {
  const headers: Record<string, string> = { accept: 'application/vnd.api+json', ...(o.headers ?? {}) };
  if (o.key !== undefined) headers['x-client-hash-key'] = o.key;
  if (o.body !== undefined) headers['content-type'] = o.contentType ?? 'application/vnd.api+json';
  const res = await fetch(`${baseUrl}${path}`, {
    method: o.method ?? (o.body !== undefined ? 'POST' : 'GET'),
    headers,
    body: o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body),
  });
  const text = await res.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, body, headers: res.headers };
}

/**
 * The issues of an RFC 9457 problem (every API but send) as SPEC §7 lists them: code, the name of the field,
 * header, parameter or part each points at, text.
 */
export function problemMessages(problem: any): { code: number; field?: string; text: string }[] {
  return (problem?.issues ?? []).map((i: any) => ({ code: i.code, field: i.source && (Object.values(i.source)[0] as string), text: i.text }));
}
