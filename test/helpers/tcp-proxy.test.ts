// The fault proxy itself, on a local echo server: what the battery's faults mean on the wire.
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { TcpProxy } from './tcp-proxy.js';

describe('test helper: TCP fault proxy', () => {
  let echo: net.Server;
  let received = 0;
  let proxy: TcpProxy;
  before(async () => {
    echo = net.createServer((s) => s.on('data', (d) => (received += d.length, s.write(d))).on('error', () => undefined));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    proxy = await TcpProxy.start(`tcp://127.0.0.1:${(echo.address() as net.AddressInfo).port}`);
  });
  after(async () => {
    await proxy.close();
    echo.close();
  });

  const open = async () => {
    const s = net.connect(proxy.port, '127.0.0.1');
    await once(s, 'connect');
    return s;
  };
  const read = (s: net.Socket, n: number) =>
    new Promise<string>((resolve) => {
      let got = '';
      const on = (d: Buffer) => {
        got += d.toString();
        if (got.length >= n) {
          s.off('data', on);
          resolve(got);
        }
      };
      s.on('data', on);
    });

  it('forwards both ways, in order, also with latency', async () => {
    const s = await open();
    s.write('abc');
    assert.equal(await read(s, 3), 'abc');
    proxy.latencyMs = 30;
    for (const c of ['1', '2', '3', '4']) s.write(c);
    assert.equal(await read(s, 4), '1234');
    proxy.latencyMs = 0;
    s.destroy();
    assert.equal(proxy.url('postgres://u@db.example:5432/x?a=1'), `postgres://u@127.0.0.1:${proxy.port}/x?a=1`);
  });

  it('cut closes every open connection; down refuses new ones until up', async () => {
    const s = await open();
    // events.once would reject on the reset's 'error'; the close is what counts.
    const closed = new Promise((r) => s.on('error', () => undefined).once('close', r));
    assert.equal(proxy.cut(), 1);
    await closed;
    await proxy.down();
    const refused = net.connect(proxy.port, '127.0.0.1');
    const [err] = await once(refused, 'error');
    assert.equal((err as NodeJS.ErrnoException).code, 'ECONNREFUSED');
    await proxy.up();
    const again = await open();
    again.write('back');
    assert.equal(await read(again, 4), 'back');
    again.destroy();
  });

  it('black-hole: open and new connections pass nothing until healed, then what was held arrives', async () => {
    const s = await open();
    proxy.blackhole();
    const before = received;
    s.write('held');
    const late = await open();
    late.write('late');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(received, before, 'nothing reached the service');
    proxy.heal();
    assert.equal(await read(s, 4), 'held');
    assert.equal(await read(late, 4), 'late');
    s.destroy();
    late.destroy();
  });
});
