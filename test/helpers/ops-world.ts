// Test helper: a small demo-like world for ops tests: two cities, Monaco's OSM roads, drivers on sockets and live jobs.
import fs from 'node:fs';
import path from 'node:path';
import { signToken } from '../../src/auth/tokens.js';
import { defaultMonacoRoadsPath } from '../../src/sim/road-graph.js';
import { Client, NO_JOB_LIMITS, SECRET, http, startServer } from './server.js';
import type { TestServer } from './server.js';

export const MONACO = { lat: 43.7384, lng: 7.4246 };
export const PORTO = { lat: 41.1496, lng: -8.611 };
const MONACO_BOX = { type: 'Polygon', coordinates: [[[7.40, 43.72], [7.44, 43.72], [7.44, 43.76], [7.40, 43.76], [7.40, 43.72]]] };
const PORTO_BOX = { type: 'Polygon', coordinates: [[[-8.70, 41.10], [-8.55, 41.10], [-8.55, 41.20], [-8.70, 41.20], [-8.70, 41.10]]] };

export interface OpsWorld {
  s: TestServer;
  drivers: Client[];
  /** Ids of the live jobs created, oldest first. */
  jobs: string[];
  stop(): Promise<void>;
}

/**
 * Start a node with cities `monaco` and `porto` (the Monaco OSM roads as the dashboard backdrop, offers
 * that stay open for a minute), put `driverCount` drivers in Monaco, each with a short trail of fixes,
 * and create `jobCount` live jobs (each offered to one silent driver, so it stays `dispatching`, or
 * accepted when `acceptFirst` says so). Needs driverCount ≥ jobCount.
 */
export async function startOpsWorld(dir: string, opts: { driverCount: number; jobCount: number; acceptFirst?: number; env?: Record<string, string> }): Promise<OpsWorld> {
  const cities = path.join(dir, 'cities.json');
  fs.writeFileSync(cities, JSON.stringify({ cities: [
    { name: 'monaco', timezone: 'Europe/Monaco', boundary: MONACO_BOX },
    { name: 'porto', timezone: 'Europe/Lisbon', boundary: PORTO_BOX },
  ] }));
  const s = await startServer({
    ...NO_JOB_LIMITS, TAXIWAY_CITIES: cities, TAXIWAY_OFFER_TIMEOUT_MS: '60000', TAXIWAY_DASHBOARD_ROADS: defaultMonacoRoadsPath(), ...opts.env,
  }, path.join(dir, 'data'));
  const drivers: Client[] = [];
  const now = Date.now();
  for (let i = 0; i < opts.driverCount; i++) {
    const c = await Client.open(`${s.wsUrl}/v1/driver/ws`, await signToken(SECRET, `drv-${i}`, 'driver', 3600));
    await c.waitFor((f) => f.t === 'hello');
    // A trail of 5 fixes, one a second, ending now, walking north-east across the city.
    const lat = MONACO.lat - 0.006 + (i % 6) * 0.002;
    const lng = MONACO.lng - 0.008 + Math.floor(i / 6) * 0.003;
    const pts = [4, 3, 2, 1, 0].map((k) => [now - k * 1000, lat - k * 0.0001, lng - k * 0.0001]);
    const a = await c.request({ t: 'locs', pts });
    if (a.t !== 'ack') throw new Error('locs refused: ' + JSON.stringify(a));
    const b = await c.request({ t: 'status', s: 'available' });
    if (b.t !== 'ack') throw new Error('status refused: ' + JSON.stringify(b));
    drivers.push(c);
  }
  s.app.fleet.rebuildDirty();
  const jobs: string[] = [];
  for (let i = 0; i < opts.jobCount; i++) {
    const mark = drivers.map((d) => d.frames.length);
    const r = await http('POST', `${s.url}/v1/jobs`, await s.token('rider', `rdr-${i}`), {
      pickup: { lat: MONACO.lat + 0.001 * i, lng: MONACO.lng }, dropoff: { lat: MONACO.lat + 0.01, lng: MONACO.lng + 0.01 },
    });
    if (r.status !== 201) throw new Error(`create ${r.status} ${JSON.stringify(r.body)}`);
    jobs.push(r.body.id);
    // Wait for the offer: the next job must not find this driver free (it would get no candidate).
    const offered = await Promise.race(drivers.map((d, k) => d.waitFor((f) => f.t === 'offer' && f.job === r.body.id, 5000, mark[k]).then(() => d)));
    if (i < (opts.acceptFirst ?? 0)) {
      const acc = await offered.request({ t: 'accept', job: r.body.id });
      if (acc.t !== 'ack') throw new Error('accept refused: ' + JSON.stringify(acc));
    }
  }
  return {
    s, drivers, jobs,
    stop: async () => {
      for (const d of drivers) d.close();
      await s.stop();
    },
  };
}
