// Baseline: the "naive stack" a team would write first — Node `ws`, msgpack decode, a Map of latest
// positions and one Redis GEOADD per fix (fire-and-forget, so Redis' command queue is unbounded).
// Speaks enough of the driver protocol for the same load generator: token on upgrade, `loc` frames,
// `ack` for frames with an id. GET /metrics reports its counters.
import http from 'node:http';
import { Packr, Unpackr } from 'msgpackr';
import { Redis } from 'ioredis';
import { WebSocketServer } from 'ws';
import { verifyDriverHs256 } from '../lib/jwt.js';

const secret = process.env.TAXIWAY_AUTH_SECRET ?? '';
const prefix = process.env.NAIVE_REDIS_PREFIX ?? 'taxiway-bench-naive:';
const key = prefix + 'drivers';
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
redis.on('error', () => {});
const unpackr = new Unpackr({ mapsAsObjects: true, useRecords: false, int64AsType: 'number' });
const packr = new Packr({ useRecords: false });

const positions = new Map<string, { lat: number; lng: number; ts: number }>();
let processed = 0;
let stored = 0;
let failed = 0;
let bad = 0;

const verify = (token: string | undefined): string | null => verifyDriverHs256(secret, token);

const server = http.createServer((req, res) => {
  if (req.url === '/metrics') {
    res.setHeader('content-type', 'text/plain');
    res.end(
      `naive_fixes_processed_total ${processed}\nnaive_fixes_stored_total ${stored}\nnaive_fixes_failed_total ${failed}\n` +
        `naive_bad_frames_total ${bad}\nnaive_drivers ${positions.size}\nnaive_redis_pending ${processed - stored - failed}\n`,
    );
    return;
  }
  res.statusCode = 404;
  res.end();
});
const wss = new WebSocketServer({ noServer: true });
server.on('upgrade', (req, socket, head) => {
  const auth = req.headers.authorization;
  const token = auth?.startsWith('Bearer ') ? auth.slice(7) : new URL(req.url ?? '/', 'http://x').searchParams.get('token') ?? undefined;
  const driver = verify(token);
  if (!driver) {
    socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on('message', (data: Buffer) => {
      let m: Record<string, unknown>;
      try {
        m = unpackr.unpack(data) as Record<string, unknown>;
      } catch {
        bad++;
        return;
      }
      if (m.t === 'loc' && typeof m.lat === 'number' && typeof m.lng === 'number' && typeof m.ts === 'number') {
        positions.set(driver, { lat: m.lat, lng: m.lng, ts: m.ts });
        processed++;
        redis.geoadd(key, m.lng, m.lat, driver).then(() => stored++, () => failed++);
      } else if (m.t !== 'status') bad++;
      if (typeof m.id === 'number') ws.send(packr.pack({ t: 'ack', id: m.id }));
    });
  });
});
server.listen(0, '127.0.0.1', () => {
  const a = server.address() as { port: number };
  process.send?.({ ev: 'ready', port: a.port, pid: process.pid });
});
process.on('message', (c: { cmd: string }) => {
  if (c.cmd === 'stop') {
    void redis
      .del(key)
      .catch(() => 0)
      .finally(() => {
        redis.disconnect();
        process.send?.({ ev: 'stopped' });
        setTimeout(() => process.exit(0), 50);
      });
  }
});
process.on('disconnect', () => process.exit(0));
