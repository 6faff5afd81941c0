// Hostile clients on one node: per-IP upgrade limits, HTTP bodies cut at the limit, NaN and 0xc1 frames,
// frame-size closes, oversized headers. Real server, real sockets.
import net from 'node:net';
import t from 'tap';
import { encodeFrame } from '../src/protocol/codec.js';
import { Client, fetchChecked, removeDir, sleep, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';

/** One raw HTTP exchange: write `head`, then `chunk()` repeatedly (when given) until the server answers and closes or `maxMs` passes. */
function rawHttp(port: number, head: string, chunk?: Buffer, maxMs = 5000): Promise<{ status: string; text: string; closed: boolean; sentBytes: number; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const c = net.connect(port, '127.0.0.1');
    let text = '';
    let sent = 0;
    let closed = false;
    let timer: NodeJS.Timeout | null = null;
    const done = (): void => {
      if (timer) clearInterval(timer);
      clearTimeout(stop);
      c.destroy();
      resolve({ status: text.split('\r\n')[0] ?? '', text, closed, sentBytes: sent, ms: Date.now() - t0 });
    };
    const stop = setTimeout(done, maxMs);
    c.on('data', (d) => (text += d));
    c.on('error', () => undefined);
    c.on('close', () => {
      closed = true;
      done();
    });
    c.write(head);
    if (chunk) {
      const pump = (): void => {
        // Keep the pipe full without queueing unbounded data in this process.
        while (!c.destroyed && c.writableLength < 1 << 20) {
          c.write(chunk);
          sent += chunk.length;
        }
      };
      timer = setInterval(pump, 5);
      pump();
    }
  });
}

async function metricValue(s: TestServer, name: string, label: string): Promise<number> {
  const text = await (await fetchChecked(`${s.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name) && l.includes(label));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : NaN;
}

async function upgradeStatus(s: TestServer, token: string): Promise<{ status: number; retryAfter: string | null; code?: string }> {
  const port = Number(new URL(s.url).port);
  const r = await rawHttp(port, `GET /v1/rider/ws HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`, undefined, 300);
  const status = Number(/^HTTP\/1\.1 (\d+)/.exec(r.status)?.[1] ?? 0);
  const retryAfter = /\r\nretry-after: *(\S+)/i.exec(r.text)?.[1] ?? null;
  const code = /"code":"([a-z_]+)"/.exec(r.text)?.[1];
  return { status, retryAfter, code };
}

t.test('per-IP limits on WebSocket upgrades: rate and open sockets, 429 rate_limited with Retry-After', async (t) => {
  const s = await startServer({ TAXIWAY_WS_UPGRADES_PER_SEC_PER_IP: '5', TAXIWAY_WS_MAX_SOCKETS_PER_IP: '3' });
  t.teardown(async () => {
    await s.stop();
    removeDir(s.dataDir);
  });
  const tok = await s.token('rider', 'ip-r');
  // Open sockets: the 4th is refused while 3 are open, accepted again once one closes.
  await sleep(1000 - (Date.now() % 1000) + 20); // a fresh one-second window
  const open = [await Client.open(`${s.wsUrl}/v1/rider/ws`, tok), await Client.open(`${s.wsUrl}/v1/rider/ws`, tok), await Client.open(`${s.wsUrl}/v1/rider/ws`, tok)];
  const fourth = await Client.open(`${s.wsUrl}/v1/rider/ws`, tok).then(() => 101, (e: { status?: number }) => e.status);
  t.equal(fourth, 429, 'a 4th open socket is refused');
  open[0]!.close();
  await open[0]!.waitClose();
  await sleep(1000 - (Date.now() % 1000) + 20);
  const again = await Client.open(`${s.wsUrl}/v1/rider/ws`, tok);
  t.pass('a slot freed by a close is usable');
  again.close();
  for (const c of open.slice(1)) c.close();
  await sleep(1000 - (Date.now() % 1000) + 20);
  // Rate: 5 per second, the 6th within the same second is refused.
  const statuses = await Promise.all(Array.from({ length: 8 }, () => upgradeStatus(s, 'not-a-token')));
  const refused = statuses.filter((x) => x.status === 429);
  t.ok(refused.length >= 1, `${refused.length} of 8 upgrades in one second refused`);
  t.equal(statuses.filter((x) => x.status === 401).length + refused.length, 8, 'the rest reached the token check');
  t.equal(refused[0]?.retryAfter, '1', 'Retry-After: 1');
  t.equal(refused[0]?.code, 'rate_limited');
  t.equal(await metricValue(s, 'taxiway_ws_upgrades_refused_total', 'reason="upgrade_rate"'), refused.length, 'counted');
  t.equal(await metricValue(s, 'taxiway_ws_upgrades_refused_total', 'reason="sockets_per_ip"'), 1, 'counted');
});

t.test('HTTP bodies: an endless chunked body gets 413 at once and the connection closes; no token, no body read', async (t) => {
  const s = await startServer();
  t.teardown(async () => {
    await s.stop();
    removeDir(s.dataDir);
  });
  const port = Number(new URL(s.url).port);
  const tok = await s.token('rider', 'body-r');
  const piece = Buffer.alloc(16 * 1024, 0x20);
  const chunk = Buffer.concat([Buffer.from(piece.length.toString(16) + '\r\n'), piece, Buffer.from('\r\n')]);
  const chunkedHead = (auth: string): string =>
    `POST /v1/jobs HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`;
  // A body just over the limit, then the client waits: every byte it sent is read, so the close is a
  // clean FIN and the 413 always reaches it.
  const over = await rawHttp(port, chunkedHead(`Authorization: Bearer ${tok}\r\n`) + chunk.toString('latin1').repeat(5), undefined, 8000);
  t.match(over.status, /^HTTP\/1\.1 413/, '413');
  t.match(over.text, /"code":"too_large"/);
  t.ok(over.closed, 'connection closed by the server');
  // An endless body: the node stops reading at the limit, answers and closes at once. A client still
  // sending then gets the 413 or a reset, whichever its kernel delivers first (uWS 20.30 has no lingering
  // close; docs/protocol.md, Limits): what must hold is that the node is done with it quickly.
  const big = await rawHttp(port, chunkedHead(`Authorization: Bearer ${tok}\r\n`), chunk, 8000);
  if (big.text !== '') t.match(big.text, /^HTTP\/1\.1 413[\s\S]*"code":"too_large"/, 'what arrived is the 413');
  t.ok(big.closed, 'connection closed by the server');
  t.ok(big.ms < 3000, `answered and closed in ${big.ms} ms`);
  t.ok(big.sentBytes < 64 * 1024 * 1024, `the client got ${big.sentBytes} bytes out before the close`);
  // No body byte sent at all: the refusal must not wait for one.
  const anon = await rawHttp(port, chunkedHead(''), undefined, 8000);
  t.match(anon.status, /^HTTP\/1\.1 401/, 'no token: 401 before any body is read');
  t.ok(anon.closed && anon.ms < 3000, `closed in ${anon.ms} ms`);
  const declared = await rawHttp(port, `POST /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tok}\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n`, undefined, 3000);
  t.match(declared.status, /^HTTP\/1\.1 413/, 'a declared Content-Length over the limit: 413 before reading');
  t.ok(declared.closed, 'and closed');
  // A normal request right after still works.
  const ok = await fetchChecked(`${s.url}/v1/jobs`, { method: 'POST', headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' }, body: JSON.stringify({ pickup: { lat: 1, lng: 1 } }) });
  t.equal(ok.status, 201);
});

t.test('frames: NaN in loc is bad_request as in locs; 0xc1 is bad_frame; size closes', async (t) => {
  const s = await startServer();
  t.teardown(async () => {
    await s.stop();
    removeDir(s.dataDir);
  });
  const d = (await Client.open(`${s.wsUrl}/v1/driver/ws`, await s.token('driver', 'nan-d'))).allowInvalidSends(); // NaN fields on purpose
  await d.waitFor((f) => f.t === 'hello');
  const ts = Date.now();
  for (const k of ['hdg', 'spd', 'acc']) {
    const r = await d.request({ t: 'loc', lat: 10, lng: 10, ts, [k]: NaN });
    t.equal(r.code, 'bad_request', `loc with ${k} NaN`);
    const pt: unknown[] = [ts, 10, 10, null, null, null];
    pt[k === 'hdg' ? 3 : k === 'spd' ? 4 : 5] = NaN;
    const rs = await d.request({ t: 'locs', pts: [pt] });
    t.same([rs.accepted, rs.rejected], [0, 1], `locs with ${k} NaN`);
  }
  t.equal((await d.request({ t: 'loc', lat: 10, lng: 10, ts, hdg: null })).t, 'ack', 'nil stays "absent"');
  // {t:"status", s:<0xc1>, id:7}
  const c1 = Buffer.concat([Buffer.from([0x83, 0xa1, 0x74]), encodeFrame('status' as unknown as object), Buffer.from([0xa1, 0x73, 0xc1, 0xa2, 0x69, 0x64, 0x07])]);
  const mark = d.frames.length;
  d.sendRaw(c1);
  // A frame that does not decode has no id to answer with.
  const e = await d.waitFor((f) => f.t === 'err', 5000, mark);
  t.equal(e.code, 'bad_frame', '0xc1 is bad_frame');
  // 64 KiB < frame <= 1 MiB: our 1009 close.
  d.sendRaw(Buffer.alloc(100 * 1024, 0x80));
  t.equal(await d.waitClose(), 1009);
  // Over 1 MiB: uWS (20.30) closes the TCP connection without a close frame: the client sees 1006 (docs/protocol.md).
  const d2 = await Client.open(`${s.wsUrl}/v1/driver/ws`, await s.token('driver', 'nan-d2'));
  d2.sendRaw(Buffer.alloc(1024 * 1024 + 1, 0x80));
  t.equal(await d2.waitClose(), 1006);
});

t.test('headers over 4 KiB split across reads: uWS closes without a reply (documented)', async (t) => {
  const s = await startServer();
  t.teardown(async () => {
    await s.stop();
    removeDir(s.dataDir);
  });
  const port = Number(new URL(s.url).port);
  const r = await new Promise<string>((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    let out = '';
    c.on('data', (x) => (out += x));
    c.on('error', () => undefined);
    c.on('close', () => resolve(out));
    c.write('GET /v1/jobs/x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ');
    setTimeout(() => c.write('a'.repeat(100_000) + '\r\n\r\n'), 100);
    setTimeout(() => c.destroy(), 3000);
  });
  t.equal(r, '', 'no response bytes: the connection is closed');
});
