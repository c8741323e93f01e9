// Child processes under measurement: CPU time and resident memory read from /proc, as the kernel counts them.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

export type Usage = { cpuMs: number; rssBytes: number; peakRssBytes: number };

export function usage(pid: number): Usage {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuMs = (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { cpuMs, rssBytes: kb('VmRSS'), peakRssBytes: kb('VmHWM') };
}

export type Child = { proc: ChildProcess; output: () => string; stop: () => Promise<void>; pid: number };

/** Starts `node <script>` and waits until it prints `ready` (or a URL line matching `until`). */
export async function startNode(script: string, env: Record<string, string>, until: RegExp | null = /ready/, args: string[] = [], scriptArgs: string[] = []): Promise<Child> {
  const proc = spawn(process.execPath, [...args, script, ...scriptArgs], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  if (!until) {
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  } else await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${script} did not start: ${out.slice(-2000)}`)), 60000);
    const on = (d: Buffer) => {
      out += d.toString();
      if (until.test(out)) {
        clearTimeout(t);
        resolve();
      }
    };
    proc.stdout!.on('data', on);
    proc.stderr!.on('data', on);
    proc.once('exit', (code) => reject(new Error(`${script} exited ${code}: ${out.slice(-2000)}`)));
  });
  return {
    proc,
    pid: proc.pid!,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 10000).unref();
      }),
  };
}

/** Samples a process's peak RSS while `work` runs (VmHWM already is the peak; this also keeps the last RSS). */
export async function measure<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; cpuMs: number; peakRssBytes: number; endRssBytes: number; wallMs: number }> {
  const before = usage(pid);
  const t0 = performance.now();
  const result = await work();
  const wallMs = performance.now() - t0;
  const after = usage(pid);
  return { result, cpuMs: after.cpuMs - before.cpuMs, peakRssBytes: after.peakRssBytes, endRssBytes: after.rssBytes, wallMs };
}
