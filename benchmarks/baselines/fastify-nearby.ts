// Baseline: fastify serving GET /v1/drivers/nearby from the same index (taxiway's CityFleet, same seeded
// fleet, same filters, same bearer-token check and the same JSON), plus /healthz. What a team would build
// with the most popular fast Node framework instead of uWS.
import Fastify from 'fastify';
import { TokenVerifier, extractToken } from '../../src/auth/tokens.js';
import { BaselineEta } from '../../src/eta/baseline.js';
import { CityFleet, DriverStatus, NearestResult, statusName } from '../../src/fleet/city-fleet.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import { cityPoints } from '../lib/util.js';

const n = Number(process.env.BENCH_PRELOAD ?? 100_000);
const seed = Number(process.env.BENCH_SEED ?? 1);
const available = Number(process.env.BENCH_AVAILABLE ?? 0.8);
const staleMs = Number(process.env.TAXIWAY_STALE_MS ?? 30_000);
const defaultRadius = Number(process.env.TAXIWAY_SEARCH_RADIUS_M ?? 5000);
const verifier = new TokenVerifier(process.env.TAXIWAY_AUTH_SECRET ?? '');
const eta = new BaselineEta(8.3);

const fleet = new CityFleet({ name: 'world' });
const pts = cityPoints(n, seed);
const now0 = Date.now();
const availEvery = available > 0 ? 1 / available : Infinity;
let next = 0;
for (let i = 0; i < n; i++) {
  let s: 0 | 1 | 2 = DriverStatus.busy;
  if (i >= next) {
    s = DriverStatus.available;
    next += availEvery;
  }
  fleet.upsert('p' + i, pts[2 * i]!, pts[2 * i + 1]!, now0, NaN, NaN, s);
}
fleet.rebuildIndex();
const near = new NearestResult(100);

function num(q: Record<string, string | undefined>, k: string, def: number | undefined, min: number, max: number, int = false): number {
  const raw = q[k];
  if (raw === undefined || raw === '') {
    if (def === undefined) throw new ProtocolError('bad_request', `${k} is required`);
    return def;
  }
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max || (int && !Number.isInteger(v))) throw new ProtocolError('bad_request', `${k} must be a number from ${min} to ${max}`);
  return v;
}

const app = Fastify({ logger: false });
app.get('/healthz', async () => ({ ok: true }));
app.get('/v1/drivers/nearby', async (req, reply) => {
  try {
    const p = await verifier.verify(extractToken(req.headers.authorization ?? '', undefined));
    if (p.role !== 'rider' && p.role !== 'ops') throw new ProtocolError('forbidden', 'role');
    const q = req.query as Record<string, string | undefined>;
    const lat = num(q, 'lat', undefined, -90, 90);
    const lng = num(q, 'lng', undefined, -180, 180);
    const radius = num(q, 'radius_m', defaultRadius, 1, 50_000);
    const limit = num(q, 'limit', 10, 1, 100, true);
    const now = Date.now();
    const freshAfter = now - staleMs;
    const k = fleet.nearest(lat, lng, limit, radius, (s) => fleet.status[s] === DriverStatus.available && fleet.ts[s]! >= freshAfter, near);
    const drivers: Array<Record<string, unknown>> = [];
    for (let i = 0; i < k; i++) {
      const s = near.slots[i]!;
      const item: Record<string, unknown> = { lat: fleet.lat[s], lng: fleet.lng[s], distance_m: Math.round(near.metres[i]!), eta_s: eta.seconds(fleet.lat[s]!, fleet.lng[s]!, lat, lng) };
      if (p.role === 'ops') {
        item.id = fleet.idAt(s);
        item.status = statusName(fleet.status[s] as 0 | 1 | 2);
      }
      drivers.push(item);
    }
    return { drivers };
  } catch (e) {
    const code = e instanceof ProtocolError ? e.code : 'internal';
    reply.code(code === 'unauthorized' ? 401 : code === 'forbidden' ? 403 : code === 'bad_request' ? 400 : 500);
    return { error: { code, message: (e as Error).message } };
  }
});
await app.listen({ host: '127.0.0.1', port: 0 });
const addr = app.server.address() as { port: number };
process.send?.({ ev: 'ready', port: addr.port, pid: process.pid });
process.on('message', (c: { cmd: string }) => {
  if (c.cmd === 'stop') void app.close().finally(() => { process.send?.({ ev: 'stopped' }); setTimeout(() => process.exit(0), 50); });
});
process.on('disconnect', () => process.exit(0));
