// hammy client …: clients and their portal keys, through the admin API (needs the admin token).
import fs from 'node:fs';
import type { Command } from 'commander';
import { call, CliError } from './gateway-client.js';
import { action, CLIENTS, print, positiveInt, show, type Globals } from './command.js';

export function addClientCommands(program: Command) {
  const client = program.command('client').description('manage clients (admin API: needs the admin token)');

  function clientSettings(o: Record<string, any>) {
    const a: Record<string, unknown> = {};
    if (o.name !== undefined) a.name = o.name;
    if (o.from !== undefined) a.defaultFromAddress = o.from;
    if (o.fromName !== undefined) a.defaultFromName = o.fromName;
    if (o.postalAddress !== undefined) a.postalAddress = o.postalAddress;
    if (o.maxAttachments !== undefined) a.maxAttachments = o.maxAttachments;
    if (o.maxAttachmentBytes !== undefined) a.maxAttachmentBytes = o.maxAttachmentBytes;
    if (o.rateLimit !== undefined) a.rateLimitPerSecond = o.rateLimit === 'none' ? null : o.rateLimit;
    if (o.jwtRequired) a.jwtRequired = true;
    if (o.jwtAlgorithms !== undefined) a.jwtAlgorithms = String(o.jwtAlgorithms).split(',').map((s: string) => s.trim()).filter(Boolean);
    if (o.jwtSecret !== undefined) a.jwtSecret = o.jwtSecret;
    if (o.filesFolder !== undefined) a.filesFolder = o.filesFolder;
    if (o.jwtPublicKey !== undefined) {
      try {
        a.jwtPublicKey = fs.readFileSync(o.jwtPublicKey, 'utf8');
      } catch (e) {
        throw new CliError(`cannot read ${o.jwtPublicKey}: ${(e as NodeJS.ErrnoException).code}`);
      }
    }
    return a;
  }

  function printClient(g: Globals, doc: any, verb: string) {
    if (g.json) return print(JSON.stringify(doc, null, 2));
    const a = doc.data.attributes;
    print(`client ${doc.data.id} ${verb}: ${a.name} <${a.defaultFromAddress}>${a.enabled ? '' : ' (disabled)'}${a.rateLimitPerSecond ? `, at most ${a.rateLimitPerSecond} requests/s` : ''}, files in ${a.filesFolder}/`);
    if (a.hashKey) {
      print(`hash key: ${a.hashKey}`);
      print('(shown only now; keep it, e.g.: export HAMMY_CLIENT_KEY=' + a.hashKey + ')');
    }
  }

  client
    .command('create')
    .description('create a client; its hash key is generated and shown once')
    .requiredOption('--name <name>', "the client's name")
    .requiredOption('--from <address>', 'default sender address')
    .option('--from-name <name>', 'default sender name')
    .option('--postal-address <address>', "return address on the client's POST letters, lines separated by ';'")
    .option('--max-attachments <n>', 'attachment count limit', positiveInt)
    .option('--max-attachment-bytes <n>', 'attachment size limit', positiveInt)
    .option('--rate-limit <perSecond>', 'requests per second (each batch item counts); default unlimited', positiveInt)
    .option('--jwt-algorithms <list>', 'pinned JWT algorithms, comma-separated (e.g. RS256)')
    .option('--jwt-secret <secret>', 'HMAC secret for HS* algorithms (32+ characters)')
    .option('--jwt-public-key <file>', 'PEM public key file for RS/PS/ES/EdDSA')
    .option('--jwt-required', 'refuse requests without a valid JWT')
    .option('--files-folder <name>', "the client's folder under SOURCE_DIR and ARCHIVE_DIR (default client-<id>)")
    .action(
      action(async (g, o: Record<string, unknown>) => {
        const doc = await call(g, CLIENTS, { auth: 'admin', body: { data: { type: 'clients', attributes: clientSettings(o) } } });
        printClient(g, doc, 'created');
      }),
    );

  client
    .command('rotate')
    .argument('<id>', 'client id', positiveInt)
    .description('give the client a new hash key; the old one stops working at once')
    .action(action(async (g, id: number) => printClient(g, await call(g, `${CLIENTS}/${id}/key`, { auth: 'admin', method: 'POST' }), 'has a new key')));

  for (const [name, enabled] of [['disable', false], ['enable', true]] as const) {
    client
      .command(name)
      .argument('<id>', 'client id', positiveInt)
      .description(enabled ? 'let the client send again' : 'refuse every request of the client (code 2)')
      .action(action(async (g, id: number) => printClient(g, await call(g, `${CLIENTS}/${id}`, { auth: 'admin', method: 'PATCH', body: { data: { type: 'clients', attributes: { enabled } } } }), `${name}d`)));
  }

  client
    .command('rate-limit')
    .argument('<id>', 'client id', positiveInt)
    .argument('<perSecond>', "requests per second, or 'none' for unlimited", (v: string) => (v === 'none' ? v : positiveInt(v)))
    .description('limit how many requests per second the client may make (over it: code 7, HTTP 429)')
    .action(action(async (g, id: number, rateLimit: number | 'none') => printClient(g, await call(g, `${CLIENTS}/${id}`, { auth: 'admin', method: 'PATCH', body: { data: { type: 'clients', attributes: clientSettings({ rateLimit }) } } }), 'changed')));

  client
    .command('list')
    .description('list clients (keys are never shown again)')
    .action(
      action(async (g) => {
        show(g, await call(g, CLIENTS, { auth: 'admin' }), (doc) =>
          doc.data.map((c: any) => `${c.id.padStart(4)}  ${c.attributes.enabled ? 'enabled ' : 'disabled'}  ${c.attributes.name} <${c.attributes.defaultFromAddress}>`),
        );
      }),
    );

  // A client's portal keys: what its remote-content platform sends in PORTAL_KEY_HEADER (README "One request per channel").
  const portalKey = client.command('portal-key').description("manage a client's portal API keys (admin API)");
  portalKey
    .command('create')
    .argument('<clientId>', 'client id', positiveInt)
    .description('make a portal key for the client; it is shown only now')
    .action(
      action(async (g, id: number) => {
        show(g, await call(g, `${CLIENTS}/${id}/portal-keys`, { auth: 'admin', method: 'POST' }), (doc) => [
          `portal key ${doc.data.id} created for client ${id}: ${doc.data.attributes.key}`,
          '(shown only now; give it to the platform that fetches the remote content)',
        ]);
      }),
    );
  portalKey
    .command('list')
    .argument('<clientId>', 'client id', positiveInt)
    .description("list the client's portal keys (never the keys themselves)")
    .action(
      action(async (g, id: number) => {
        show(g, await call(g, `${CLIENTS}/${id}/portal-keys`, { auth: 'admin' }), (doc) =>
          doc.data.map((k: any) => `${k.id.padStart(4)}  created ${k.attributes.createdAt}  last used ${k.attributes.lastUsedAt ?? 'never'}`),
        );
      }),
    );
  portalKey
    .command('revoke')
    .argument('<clientId>', 'client id', positiveInt)
    .argument('<keyId>', 'portal key id', positiveInt)
    .description('revoke a portal key; it stops working at once')
    .action(
      action(async (g, id: number, keyId: number) => {
        await call(g, `${CLIENTS}/${id}/portal-keys/${keyId}`, { auth: 'admin', method: 'DELETE' });
        print(`portal key ${keyId} of client ${id} revoked`);
      }),
    );
}
