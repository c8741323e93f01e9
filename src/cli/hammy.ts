#!/usr/bin/env node
// hammy: the operator's command-line tool. It talks HTTP (and AMQP for `send --via amqp`) to a running gateway.
import fs from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { projectRoot } from '../core/project-root.js';
import { call, CliError, type Connection } from './gateway-client.js';
import { importTemplates } from './import-templates.js';
import { batchLine, messageReport, progressBar, type BatchState } from './render.js';
import { readRequestFile, sendRequest, type SendVia } from './send-file.js';

const V2 = '/hammy/json/send/v2';
const CLIENTS = '/hammy/admin/v1/clients';
type Globals = { url: string; key?: string; adminToken?: string; json?: boolean };

const positiveInt = (v: string) => {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError('must be a positive integer');
  return Number(v);
};
const print = (s: string): void => void process.stdout.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a command with the global options; a CliError becomes its message on stderr and the exit code. */
function action<A extends unknown[]>(fn: (g: Globals & Connection, ...args: A) => Promise<void>) {
  return async (...args: unknown[]) => {
    const cmd = args.at(-1) as Command;
    const g = cmd.optsWithGlobals<Globals & Record<string, unknown>>();
    try {
      await fn({ ...g, url: g.url.replace(/\/+$/, '') }, ...(args.slice(0, -1) as A));
    } catch (e) {
      if (!(e instanceof CliError)) throw e;
      process.stderr.write(`hammy: ${e.message}\n`);
      process.exitCode = e.exitCode;
    }
  };
}

const program = new Command('hammy')
  .description('Operate a hammy-gateway: clients, templates, test sends, message status and batch progress.')
  .version(JSON.parse(fs.readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')).version)
  .addOption(new Option('--url <url>', 'gateway base URL').env('HAMMY_URL').default('http://localhost:8080'))
  .addOption(new Option('--key <hashKey>', 'client hash key (status, templates, send)').env('HAMMY_CLIENT_KEY'))
  .addOption(new Option('--admin-token <token>', 'the gateway ADMIN_TOKEN (client commands); prefer the env variable').env('HAMMY_ADMIN_TOKEN'))
  .option('--json', 'print the API answer as JSON instead of text')
  .showHelpAfterError();

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
      const doc = await call(g, CLIENTS, { auth: 'admin' });
      if (g.json) return print(JSON.stringify(doc, null, 2));
      for (const c of doc.data) print(`${c.id.padStart(4)}  ${c.attributes.enabled ? 'enabled ' : 'disabled'}  ${c.attributes.name} <${c.attributes.defaultFromAddress}>`);
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
      const doc = await call(g, `${CLIENTS}/${id}/portal-keys`, { auth: 'admin', method: 'POST' });
      if (g.json) return print(JSON.stringify(doc, null, 2));
      print(`portal key ${doc.data.id} created for client ${id}: ${doc.data.attributes.key}`);
      print('(shown only now; give it to the platform that fetches the remote content)');
    }),
  );
portalKey
  .command('list')
  .argument('<clientId>', 'client id', positiveInt)
  .description("list the client's portal keys (never the keys themselves)")
  .action(
    action(async (g, id: number) => {
      const doc = await call(g, `${CLIENTS}/${id}/portal-keys`, { auth: 'admin' });
      if (g.json) return print(JSON.stringify(doc, null, 2));
      for (const k of doc.data) print(`${k.id.padStart(4)}  created ${k.attributes.createdAt}  last used ${k.attributes.lastUsedAt ?? 'never'}`);
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

const template = program.command('template').description("manage the client's templates");

template
  .command('import')
  .argument('<folder>', 'folder of <messageType>/<n>/{subject.hbs,text.hbs,html.hbs,meta.json}')
  .description('add each version folder as a new version (one already stored just like it is left alone)')
  .action(
    action(async (g, folder: string) => {
      const lines = await importTemplates(g, folder, (l) => !g.json && print(l.text));
      if (g.json) print(JSON.stringify(lines, null, 2));
      if (lines.some((l) => l.outcome === 'refused')) process.exitCode = 1;
    }),
  );

template
  .command('list')
  .description("list the client's template versions")
  .action(
    action(async (g) => {
      const doc = await call(g, `${V2}/templates`, { auth: 'client' });
      if (g.json) return print(JSON.stringify(doc, null, 2));
      for (const t of doc.data) print(`${t.attributes.messageType} v${t.attributes.version}  ${t.attributes.active ? 'active  ' : 'inactive'}  ${t.attributes.defaultChannel ?? ''}`);
    }),
  );

for (const [name, active] of [['activate', true], ['deactivate', false]] as const) {
  template
    .command(name)
    .argument('<messageType>')
    .argument('<version>', 'version', positiveInt)
    .description(active ? 'make a version usable by sends without messageTypeVersion' : 'keep sends without messageTypeVersion off a version')
    .action(
      action(async (g, messageType: string, version: number) => {
        const doc = await call(g, `${V2}/templates/${encodeURIComponent(messageType)}/versions/${version}`, { auth: 'client', method: 'PATCH', body: { data: { type: 'templates', attributes: { active } } } });
        print(g.json ? JSON.stringify(doc, null, 2) : `${messageType} v${version} ${active ? 'active' : 'inactive'}`);
      }),
    );
}

program
  .command('send')
  .argument('<file>', 'a request as JSON (SendRequest fields, or JSON:API) or XML (SOAP envelope, <sendMailRequest> or <request>)')
  .description('send a message from a file; the key is added when the file names none')
  .addOption(new Option('--via <intake>', 'intake to use (default: rest for JSON, soap for XML)').choices(['soap', 'rest', 'amqp']))
  .option('--batch-id <id>', 'put the message into this batch')
  .addOption(new Option('--amqp-url <url>', 'broker for --via amqp').env('HAMMY_AMQP_URL').default('amqp://guest:guest@127.0.0.1:5672'))
  .addOption(new Option('--queue <name>', 'request queue for --via amqp').env('HAMMY_AMQP_QUEUE').default('hammy.send.v2'))
  .option('--timeout <seconds>', 'how long to wait for the queue answer', positiveInt, 30)
  .action(
    action(async (g, file: string, o: { via?: SendVia; batchId?: string; amqpUrl: string; queue: string; timeout: number }) => {
      const r = await sendRequest(g, await readRequestFile(file), { ...o, timeoutMs: o.timeout * 1000 });
      if (g.json) print(JSON.stringify(r, null, 2));
      else if (r.code === 0) print(`accepted via ${r.via}: message ${r.messageId ?? '(dry run)'}`);
      else print(`refused via ${r.via}: code ${r.code}\n${r.messages.map((m) => `  ${m.field ? `${m.field}: ` : ''}${m.text}`).join('\n')}`);
      if (!g.json) for (const p of r.params.filter((p) => p.key.startsWith('RENDERED_') || p.key === 'CHANNEL')) print(`  ${p.key}: ${p.value}`);
      if (r.code !== 0) process.exitCode = 1;
    }),
  );

program
  .command('status')
  .argument('<messageId>', 'message id', positiveInt)
  .description("show a message's status and timeline")
  .action(
    action(async (g, id: number) => {
      const doc = await call(g, `${V2}/messages/${id}`, { auth: 'client' });
      print(g.json ? JSON.stringify(doc, null, 2) : messageReport(doc.data));
    }),
  );

program
  .command('batch')
  .description('follow a batch')
  .command('tail')
  .argument('<batchId>')
  .description('show the batch until every message is final (exit 0; 2 when some FAILED)')
  .option('--interval <ms>', 'poll interval', positiveInt, 1000)
  .option('--timeout <seconds>', 'give up after this long (exit 1)', positiveInt)
  .action(
    action(async (g, batchId: string, o: { interval: number; timeout?: number }) => {
      const tty = process.stdout.isTTY === true && !g.json;
      const until = o.timeout ? Date.now() + o.timeout * 1000 : Infinity;
      const batchPath = `${V2}/batches/${encodeURIComponent(batchId)}?page[size]=1`;
      let last = '';
      let state: BatchState;
      for (;;) {
        state = (await call(g, batchPath, { auth: 'client' })).data.attributes;
        const line = tty ? progressBar(batchId, state, Math.max(10, Math.min(40, (process.stdout.columns ?? 80) - 60))) : batchLine(batchId, state);
        if (tty) process.stdout.write(`\r${line}\x1b[K`);
        else if (line !== last && !g.json) print(line);
        last = line;
        if (state.final) break;
        if (Date.now() > until) {
          if (tty) process.stdout.write('\n');
          throw new CliError(`batch ${batchId} is not final after ${o.timeout} s: ${batchLine(batchId, state)}`);
        }
        await sleep(o.interval);
      }
      if (tty) process.stdout.write('\n');
      const failed = state.counts.FAILED ?? 0;
      if (g.json) print(JSON.stringify(state, null, 2));
      else if (failed) {
        const list = await call(g, `${V2}/messages?batchId=${encodeURIComponent(batchId)}&status=FAILED&page[size]=20`, { auth: 'client' });
        print(`${failed} failed: ${list.data.map((m: any) => m.id).join(', ')}${failed > list.data.length ? ', …' : ''} (hammy status <id> shows why)`);
      } else print(`batch ${batchId}: all ${state.total} final`);
      if (failed) process.exitCode = 2;
    }),
  );

await program.parseAsync();
