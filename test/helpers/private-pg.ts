// A PostgreSQL server of the test's own (initdb in a temp folder, its own port), for faults that need a real
// server restart: the machine's PostgreSQL is never stopped, restarted or reconfigured.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './gateway.js';

const run = promisify(execFile);
const BIN = process.env.TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** A port nothing listens on now (the kernel's pick). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

export class PrivatePostgres {
  private constructor(
    private readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** initdb refuses to run as root: as root the server runs as the `postgres` user, else as this user. */
  private pg(tool: string, args: string[]) {
    const [cmd, pre] = process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', path.join(BIN, tool)]] : [path.join(BIN, tool), []];
    return run(cmd as string, [...(pre as string[]), ...args], { encoding: 'utf8' });
  }

  static async start(): Promise<PrivatePostgres> {
    const dir = tempDir('hammy-pg-');
    if (process.getuid?.() === 0) {
      const id = async (flag: string) => Number((await run('id', [flag, 'postgres'])).stdout);
      fs.chownSync(dir, await id('-u'), await id('-g'));
    }
    const p = new PrivatePostgres(dir, await freePort());
    // No fsync: this server's data dies with the test anyway, and the machine's disk is shared.
    await p.pg('initdb', ['-D', p.data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
    await p.serverStart();
    return p;
  }

  private get data(): string {
    return path.join(this.dir, 'data');
  }

  /** Starts the server and waits until it accepts connections. */
  async serverStart(): Promise<void> {
    const opts = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60`;
    await this.pg('pg_ctl', ['-D', this.data, '-l', path.join(this.dir, 'log'), '-o', opts, '-w', 'start']);
  }

  /** Stops the server as an operator would (`-m fast`: sessions are ended, transactions rolled back). */
  async serverStop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.pg('pg_ctl', ['-D', this.data, '-m', mode, '-w', 'stop']);
  }

  /** The server's process id (the first line of its postmaster.pid), or undefined while it is stopped. */
  postmasterPid(): number | undefined {
    const f = path.join(this.data, 'postmaster.pid');
    return fs.existsSync(f) ? Number(fs.readFileSync(f, 'utf8').split('\n')[0]) : undefined;
  }

  async destroy(): Promise<void> {
    if (this.postmasterPid()) await this.serverStop('immediate').catch(() => undefined);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
