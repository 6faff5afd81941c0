// Ceiling reference for ingest: uWS + the allocation-free loc decoder + latest position in typed arrays,
// nothing else (no fix rules, no history, no fleet index). What this machine and load generator allow at
// best; taxiway's ingest is read against it. Speaks enough of the driver protocol for the load generator:
// token on upgrade (HMAC checked once per connection), `loc` frames, `ack` for frames with an id.
import { LOC_OK, LocScratch, decodeLoc } from '../../src/protocol/fast-loc.js';
import { IdFrame } from '../../src/protocol/id-frame.js';
import { loadUws } from '../../src/ws/uws.js';
import { verifyDriverHs256 } from '../lib/jwt.js';

const secret = process.env.TAXIWAY_AUTH_SECRET ?? '';
const CAP = 1 << 20;
const lat = new Float64Array(CAP), lng = new Float64Array(CAP), ts = new Float64Array(CAP);
let nextSlot = 0;
let stored = 0;
let bad = 0;
const scratch = new LocScratch();
const ACK = new IdFrame({ t: 'ack' });

const verify = (token: string | undefined): string | null => verifyDriverHs256(secret, token);

interface Data { slot: number }
const uws = loadUws();
const app = uws.App();
app.ws<Data>('/v1/driver/ws', {
  maxPayloadLength: 64 * 1024,
  maxBackpressure: 1 << 20,
  idleTimeout: 120,
  upgrade: (res, req, ctx) => {
    const auth = req.getHeader('authorization');
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : new URLSearchParams(req.getQuery() ?? '').get('token') ?? undefined;
    const driver = verify(token);
    if (!driver) {
      res.writeStatus('401 Unauthorized').end();
      return;
    }
    res.upgrade({ slot: nextSlot++ % CAP }, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), ctx);
  },
  message: (ws, data) => {
    if (decodeLoc(new Uint8Array(data), scratch) !== LOC_OK) {
      bad++;
      return;
    }
    const s = ws.getUserData().slot;
    lat[s] = scratch.lat;
    lng[s] = scratch.lng;
    ts[s] = scratch.ts;
    stored++;
    if (scratch.id === scratch.id) ws.send(ACK.with(scratch.id), true);
  },
});
app.get('/metrics', (res) => {
  res.writeHeader('content-type', 'text/plain').end(`floor_fixes_stored_total ${stored}\nfloor_bad_frames_total ${bad}\n`);
});
app.listen('127.0.0.1', 0, (sock) => {
  if (!sock) throw new Error('floor: listen failed');
  process.send?.({ ev: 'ready', port: uws.us_socket_local_port(sock), pid: process.pid });
});
process.on('message', (c: { cmd: string }) => {
  if (c.cmd === 'stop') {
    process.send?.({ ev: 'stopped' });
    setTimeout(() => process.exit(0), 50);
  }
});
process.on('disconnect', () => process.exit(0));
