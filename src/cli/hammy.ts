#!/usr/bin/env node
// hammy: the operator's command-line tool. It talks HTTP (and AMQP for `send --via amqp`) to a running gateway.
import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { projectRoot } from '../core/project-root.js';
import { call, CliError } from './gateway-client.js';
import { addClientCommands } from './client-commands.js';
import { action, positiveInt, print, show, sleep, V2 } from './command.js';
import { importTemplates } from './import-templates.js';
import { batchLine, messageReport, progressBar, type BatchState } from './render.js';
import { readRequestFile, sendRequest, type SendVia } from './send-file.js';

const program = new Command('hammy')
  .description('Operate a hammy-gateway: clients, templates, test sends, message status and batch progress.')
  .version(JSON.parse(fs.readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')).version)
  .addOption(new Option('--url <url>', 'gateway base URL').env('HAMMY_URL').default('http://localhost:8080'))
  .addOption(new Option('--key <hashKey>', 'client hash key (status, templates, send)').env('HAMMY_CLIENT_KEY'))
  .addOption(new Option('--admin-token <token>', 'the gateway ADMIN_TOKEN (client commands); prefer the env variable').env('HAMMY_ADMIN_TOKEN'))
  .option('--json', 'print the API answer as JSON instead of text')
  .showHelpAfterError();

addClientCommands(program);

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
      show(g, await call(g, `${V2}/templates`, { auth: 'client' }), (doc) =>
        doc.data.map((t: any) => `${t.attributes.messageType} v${t.attributes.version}  ${t.attributes.active ? 'active  ' : 'inactive'}  ${t.attributes.defaultChannel ?? ''}`),
      );
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
