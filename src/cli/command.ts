// What every hammy command shares: the API paths, the global options, argument parsing, output, and error exits.
import { Command, InvalidArgumentError } from 'commander';
import { CliError, type Connection } from './gateway-client.js';

export const V2 = '/hammy/json/send/v2';
export const CLIENTS = '/hammy/admin/v1/clients';
export type Globals = { url: string; key?: string; adminToken?: string; json?: boolean };

export const positiveInt = (v: string) => {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError('must be a positive integer');
  return Number(v);
};
export const print = (s: string): void => void process.stdout.write(`${s}\n`);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a command with the global options; a CliError becomes its message on stderr and the exit code. */
export function action<A extends unknown[]>(fn: (g: Globals & Connection, ...args: A) => Promise<void>) {
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

/** An API answer as the user asked for it: the JSON document with --json, else the lines `text` makes of it. */
export function show(g: Globals, doc: any, text: (doc: any) => string[]): void {
  if (g.json) return print(JSON.stringify(doc, null, 2));
  for (const line of text(doc)) print(line);
}
