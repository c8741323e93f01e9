// Independent tools from Debian's poppler-utils, run on the files the gateway wrote.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function pdfText(file: string): Promise<string> {
  return (await run('pdftotext', ['-layout', file, '-'])).stdout;
}
export async function pdfPages(file: string): Promise<number> {
  const { stdout } = await run('pdfinfo', [file]);
  return Number(/^Pages:\s+(\d+)/m.exec(stdout)![1]);
}
/** pdfsig's report; it exits non-zero for an unsigned or broken file, which we still want to read. */
export async function pdfSig(file: string): Promise<string> {
  try {
    return (await run('pdfsig', [file])).stdout;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return `${err.stdout ?? ''}${err.stderr ?? ''}`;
  }
}
