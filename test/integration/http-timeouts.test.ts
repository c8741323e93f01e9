// HTTP server timeouts (issue 15, point 5): a slowloris does not hold the port, a stalled body is closed.
import assert from 'node:assert/strict';
import net from 'node:net';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

/** A connection that sends a request's header bytes one at a time, never finishing them. */
function slowSender(port: number) {
  const s = net.connect(port, '127.0.0.1');
  const state = { closed: false, socket: s };
  s.on('error', () => undefined);
  s.on('close', () => (state.closed = true));
  s.once('connect', () => s.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '));
  const timer = setInterval(() => !state.closed && s.write('a'), 200);
  s.on('close', () => clearInterval(timer));
  return state;
}

describe('HTTP server timeouts', function () {
  this.timeout(60000);
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ HTTP_HEADERS_TIMEOUT_MS: '1500', HTTP_IDLE_TIMEOUT_MS: '3000', HTTP_KEEPALIVE_TIMEOUT_MS: '2000' });
  });
  after(() => gw?.stop());

  it('200 slowloris connections: /health keeps answering, and each slow one is closed once the headers timeout passes', async () => {
    const port = Number(new URL(gw.url).port);
    const slow = Array.from({ length: 200 }, () => slowSender(port));
    try {
      await eventually(async () => slow.every((c) => c.socket.readyState === 'open' || c.closed), 10000, 'slow connections open');
      for (let i = 0; i < 3; i++) {
        const h = await fetch(`${gw.url}/health`);
        assert.equal(h.status, 200);
      }
      await eventually(async () => slow.every((c) => c.closed), 20000, 'every slow connection closed by the gateway');
    } finally {
      for (const c of slow) c.socket.destroy();
    }
  });

  it('a body that stalls midway is closed once the socket has been idle for HTTP_IDLE_TIMEOUT_MS', async () => {
    const port = Number(new URL(gw.url).port);
    const s = net.connect(port, '127.0.0.1');
    let closed = false;
    s.on('error', () => undefined).on('close', () => (closed = true));
    s.write('POST /hammy/json/send/v2/send HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"recipientName":');
    try {
      await eventually(async () => closed, 20000, 'the stalled request closed');
    } finally {
      s.destroy();
    }
  });

  it('an idle keep-alive connection is closed after HTTP_KEEPALIVE_TIMEOUT_MS', async () => {
    const port = Number(new URL(gw.url).port);
    const s = net.connect(port, '127.0.0.1');
    let closed = false;
    let answer = '';
    s.on('error', () => undefined).on('close', () => (closed = true));
    s.on('data', (c) => (answer += c.toString()));
    s.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    try {
      await eventually(async () => closed, 20000, 'the idle keep-alive connection closed');
      assert.match(answer, /^HTTP\/1\.1 200/);
      assert.match(answer, /Keep-Alive: timeout=2\b/i);
    } finally {
      s.destroy();
    }
  });
});
