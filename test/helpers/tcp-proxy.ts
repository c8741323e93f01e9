// A TCP proxy a test puts between the gateway and a service, to inject faults without touching the service:
// cut every connection, refuse new ones (down), black-hole (a partition: accepted, nothing passes), latency.
import net from 'node:net';

type Pair = { client: net.Socket; server?: net.Socket };
type Target = { host: string; port: number };

export class TcpProxy {
  private readonly server = net.createServer((c) => this.accept(c));
  private readonly pairs = new Set<Pair>();
  private held = false;
  private listening = false;
  /** Added to every chunk in both directions, in order. */
  latencyMs = 0;
  /** Connections accepted since start; a test reads it to know the gateway really went through the proxy. */
  accepted = 0;
  port = 0;

  private constructor(private readonly target: Target) {}

  /** Listens on a free port of 127.0.0.1, forwarding to `target` (a URL such as amqp://… or postgres://…). */
  static async start(targetUrl: string): Promise<TcpProxy> {
    const u = new URL(targetUrl);
    const p = new TcpProxy({ host: u.hostname, port: Number(u.port) });
    await p.listen(0);
    return p;
  }

  /** `url` with its host and port replaced by the proxy's: what the gateway is given instead. */
  url(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  /** Closes every connection, both sides, at once (as a service that went away would); new ones still pass. */
  cut(): number {
    const n = this.pairs.size;
    for (const p of this.pairs) this.drop(p);
    return n;
  }

  /** The service is away: every connection cut, new ones refused (nothing listens on the port). */
  async down(): Promise<void> {
    this.cut();
    if (!this.listening) return;
    this.listening = false;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The service is back on the same port. */
  async up(): Promise<void> {
    if (!this.listening) await this.listen(this.port);
    this.heal();
  }

  /** A partition: nothing passes either way, connections stay open, new ones are accepted and held. */
  blackhole(): void {
    this.held = true;
    for (const p of this.pairs) {
      p.client.pause();
      p.server?.pause();
    }
  }

  /** Ends a partition: what was held passes on (as TCP retransmission would deliver it). */
  heal(): void {
    if (!this.held) return;
    this.held = false;
    for (const p of this.pairs) {
      if (!p.server) this.connect(p);
      p.client.resume();
      p.server?.resume();
    }
  }

  async close(): Promise<void> {
    await this.down();
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.listening = true;
        this.port = (this.server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  private accept(client: net.Socket) {
    this.accepted++;
    const p: Pair = { client };
    this.pairs.add(p);
    client.on('error', () => this.drop(p));
    client.on('close', () => this.drop(p));
    if (this.held) client.pause();
    else this.connect(p);
  }

  private connect(p: Pair) {
    const server = net.connect(this.target.port, this.target.host);
    p.server = server;
    server.on('error', () => this.drop(p));
    server.on('close', () => this.drop(p));
    this.forward(p.client, server);
    this.forward(server, p.client);
  }

  /** Copies `from` to `to` with the current latency, keeping order and the receiver's back-pressure. */
  private forward(from: net.Socket, to: net.Socket) {
    const queue: { due: number; chunk: Buffer }[] = [];
    let timer: NodeJS.Timeout | undefined;
    let ended = false;
    const write = (chunk: Buffer) => {
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => this.held || from.resume());
      }
    };
    const pump = () => {
      timer = undefined;
      while (queue.length && queue[0]!.due <= Date.now()) write(queue.shift()!.chunk);
      if (queue.length) timer = setTimeout(pump, queue[0]!.due - Date.now());
      else if (ended) to.end();
    };
    from.on('data', (chunk: Buffer) => {
      if (!this.latencyMs && !queue.length) return write(chunk);
      queue.push({ due: Date.now() + this.latencyMs, chunk });
      timer ??= setTimeout(pump, this.latencyMs);
    });
    from.on('end', () => {
      ended = true;
      if (!queue.length) to.end();
    });
    from.on('close', () => timer && clearTimeout(timer));
  }

  private drop(p: Pair) {
    if (!this.pairs.delete(p)) return;
    // A reset, not a polite FIN: the peer learns at once, as when a server process dies.
    p.client.resetAndDestroy();
    p.server?.resetAndDestroy();
  }
}
