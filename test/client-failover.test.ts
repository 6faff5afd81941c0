// The SDK's node list (`urls`, issue #17): failed connections move to the next node round-robin, a redirect still
// wins, a silent node times out, and with `url` alone the client keeps dialling it. Real local sockets, no mocks.
import http from 'node:http';
import net from 'node:net';
import t from 'tap';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { DriverClient, RiderClient } from '../src/client/index.js';
import { decodeFrame, encodeFrame } from '../src/protocol/codec.js';
import { CloseCodes, servedElsewhereReason } from '../src/protocol/errors.js';

const PATH = '/v1/driver/ws';
const FAST = { backoff: { initialMs: 20, maxMs: 100 }, requestTimeoutMs: 3000 };

/** A fake node: answers every driver socket with `hello` and acks every frame with an id; `onSocket` sees each socket. */
interface FakeNode { url: string; port: number; sockets: WebSocket[]; accepted: number; stop(): Promise<void> }

async function fakeNode(onSocket?: (ws: WebSocket) => boolean | void, atPort = 0): Promise<FakeNode> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: atPort });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', () => resolve());
    wss.once('error', reject); // the port is still taken
  });
  const port = (wss.address() as net.AddressInfo).port;
  const node: FakeNode = {
    url: `ws://127.0.0.1:${port}`, port, sockets: [], accepted: 0,
    stop: () => new Promise<void>((resolve) => {
      for (const ws of node.sockets) ws.terminate(); // a crash: no close frame
      wss.close(() => resolve());
    }),
  };
  wss.on('connection', (ws) => {
    node.accepted++;
    node.sockets.push(ws);
    if (onSocket?.(ws) === true) return;
    ws.send(encodeFrame({ t: 'hello', driver: 'd1', interval_ms: 1000, server_ts: Date.now() }));
    ws.on('message', (data: Buffer) => {
      const f = decodeFrame(data) as { t: string; id?: number };
      if (typeof f.id === 'number') ws.send(encodeFrame({ t: 'ack', id: f.id }));
    });
  });
  return node;
}

/** A port nothing listens on (bound, then closed): connections to it are refused. */
async function deadPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

function nextReady(d: DriverClient, ms = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error('no ready')); }, ms);
    const off = d.on('ready', () => { clearTimeout(timer); off(); resolve(); });
  });
}

t.test('a refused first node: the next attempt dials the next node of the list', async (t) => {
  const b = await fakeNode();
  t.teardown(() => b.stop());
  const dead = `ws://127.0.0.1:${await deadPort()}`;
  const d = new DriverClient({ url: dead, urls: [b.url], token: 'x', ...FAST });
  t.teardown(() => d.close());
  const closes: Array<{ code: number; reconnectInMs?: number }> = [];
  d.on('close', (c) => closes.push(c));
  await d.connect();
  t.equal(d.currentUrl, `${b.url}${PATH}`, 'on the live node');
  t.equal(closes.length, 1, 'one failed attempt, on the dead node');
  t.type(closes[0]!.reconnectInMs, 'number', 'the move waited its backoff delay');
  t.equal(b.accepted, 1);
});

t.test('the node dies under a connected client: it fails over, round-robin, and comes back to the first', async (t) => {
  const a = await fakeNode();
  const b = await fakeNode();
  t.teardown(() => Promise.all([a.stop(), b.stop()]));
  // The same node twice, and with its path: dialled once per turn.
  const d = new DriverClient({ url: a.url, urls: [`${a.url}${PATH}`, b.url], token: 'x', ...FAST });
  t.teardown(() => d.close());
  await d.connect();
  t.equal(d.currentUrl, `${a.url}${PATH}`);
  await d.setStatus('available');
  const onB = nextReady(d);
  await a.stop();
  await onB;
  t.equal(d.currentUrl, `${b.url}${PATH}`, 'moved to the other node by itself');
  t.equal((await d.setStatus('available')).t, 'ack', 'usable there');
  // a comes back on its port; b dies: round-robin wraps to a.
  const a2 = await new Promise<FakeNode>((resolve) => {
    const retry = (): void => void fakeNode(undefined, a.port).then(resolve, () => setTimeout(retry, 20));
    retry();
  });
  t.teardown(() => a2.stop());
  const onA = nextReady(d);
  await b.stop();
  await onA;
  t.equal(d.currentUrl, `${a.url}${PATH}`, 'back to the first node');
});

t.test('a redirect wins over the list; a failure after it goes on with the list', async (t) => {
  const c = await fakeNode();
  const a = await fakeNode((ws) => {
    ws.close(CloseCodes.servedElsewhere, servedElsewhereReason('lisbon', c.url.replace('ws:', 'http:')));
    return true;
  });
  const b = await fakeNode();
  t.teardown(() => Promise.all([a.stop(), b.stop(), c.stop()]));
  const d = new DriverClient({ url: a.url, urls: [b.url], token: 'x', ...FAST });
  t.teardown(() => d.close());
  const redirects: Array<{ url: string | undefined }> = [];
  d.on('redirect', (r) => redirects.push(r));
  await d.connect();
  t.equal(d.currentUrl, `${c.url}${PATH}`, 'where the redirect pointed, not the next node of the list');
  t.match(redirects, [{ url: `${c.url}${PATH}` }]);
  t.equal(b.accepted, 0, 'the list was not used');
  const onB = nextReady(d);
  await c.stop();
  await onB;
  t.equal(d.currentUrl, `${b.url}${PATH}`, 'the redirect target died: the node after the last one of the list dialled');
});

t.test('a node that accepts TCP but never answers: given up after connectTimeoutMs, the next node dialled', async (t) => {
  const silent = net.createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
  const held: net.Socket[] = [];
  silent.on('connection', (s) => held.push(s));
  const b = await fakeNode();
  t.teardown(async () => {
    for (const s of held) s.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
    await b.stop();
  });
  const url = `ws://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
  const d = new DriverClient({ url, urls: [b.url], connectTimeoutMs: 200, token: 'x', ...FAST });
  t.teardown(() => d.close());
  const t0 = Date.now();
  await d.connect();
  const ms = Date.now() - t0;
  t.equal(d.currentUrl, `${b.url}${PATH}`);
  t.ok(ms >= 200 && ms < 3000, `ready on the next node after ${ms} ms (timeout 200 ms)`);
});

t.test('url alone: a failing node is dialled again, never another', async (t) => {
  const port = await deadPort();
  const d = new DriverClient({ url: `ws://127.0.0.1:${port}`, token: 'x', ...FAST });
  const urls = new Set<string>();
  let closes = 0;
  await new Promise<void>((resolve) => {
    d.on('close', () => {
      urls.add(d.currentUrl);
      if (++closes === 4) resolve();
    });
    d.connect().catch(() => undefined);
  });
  t.same([...urls], [`ws://127.0.0.1:${port}${PATH}`]);
  // The node comes up on that port: the client gets there.
  const n = await fakeNode(undefined, port);
  t.teardown(() => n.stop());
  await nextReady(d);
  t.equal(n.accepted, 1);
  await d.close();
});

t.test('rider HTTP: a node refusing the connection is passed for the next one, even for a POST; url alone still fails', async (t) => {
  let posts = 0;
  const srv = http.createServer((req, res) => {
    if (req.method === 'POST') posts++;
    req.resume();
    res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'porto:j1', city: 'porto', state: 'dispatching' }));
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
  t.teardown(() => new Promise<void>((resolve) => srv.close(() => resolve())));
  const live = `ws://127.0.0.1:${(srv.address() as net.AddressInfo).port}`;
  const dead = `ws://127.0.0.1:${await deadPort()}`;
  const rider = new RiderClient({ url: dead, urls: [live], token: 'x', ...FAST });
  t.match(await rider.createJob({ pickup: { lat: 41.15, lng: -8.6 } }), { id: 'porto:j1' });
  t.equal(posts, 1, 'sent once, to the live node');
  t.match(await rider.getJob('porto:j1'), { state: 'dispatching' }, 'the next call goes to the node that answered');
  const alone = new RiderClient({ url: dead, token: 'x', ...FAST });
  await t.rejects(alone.getJob('porto:j1'), { message: 'fetch failed' }, 'url alone: the refusal reaches the caller as before');
});
