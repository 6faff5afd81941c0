// Fix-to-visible probe: one extra driver, away from the load, sends a fix and polls GET /v1/drivers/nearby
// until the new position shows; the time between is the fix-to-visible latency under the running load.
import { Packr, Unpackr } from 'msgpackr';
import { LeanWs, clientFrame } from './lean-ws.js';
import { signHs256 } from './jwt.js';
import { nowMs, sleep, summarize } from './util.js';
import type { Summary } from './util.js';

const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ mapsAsObjects: true, useRecords: false, int64AsType: 'number' });
const BASE = { lat: 10.0, lng: 10.0 };

export interface ProbeResult { visible: Summary; ack: Summary; timeouts: number }

/** A running probe: `take()` returns what it measured since the last take (the soak reports per interval); `stop()` ends it with everything since the last take. */
export interface Probe {
  take(): ProbeResult;
  stop(): Promise<ProbeResult>;
}

export async function startProbe(port: number, secret: string, everyMs = 200): Promise<Probe> {
  const ws = await LeanWs.connect({ host: '127.0.0.1', port, path: '/v1/driver/ws', token: signHs256(secret, 'probe-1', 'driver'), timeoutMs: 60_000 });
  const ops = signHs256(secret, 'bench-ops', 'ops');
  const acks = new Map<number, (t: number) => void>();
  ws.onFrame = (p) => {
    const m = unpackr.unpack(p) as Record<string, unknown>;
    if ((m.t === 'ack' || m.t === 'err') && typeof m.id === 'number') acks.get(m.id)?.(nowMs());
  };
  const sendWait = (msg: Record<string, unknown>, id: number): Promise<number> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => { acks.delete(id); resolve(NaN); }, 10_000);
      acks.set(id, (t) => { clearTimeout(timer); acks.delete(id); resolve(t); });
      ws.write(clientFrame(packr.pack({ ...msg, id })));
    });
  let id = 1;
  let lastTs = Date.now() - 1000;
  await sendWait({ t: 'loc', lat: BASE.lat, lng: BASE.lng, ts: lastTs }, id++);
  await sendWait({ t: 'status', s: 'available' }, id++);
  const url = `http://127.0.0.1:${port}/v1/drivers/nearby?lat=${BASE.lat}&lng=${BASE.lng}&radius_m=500&limit=1`;
  let visible: number[] = [];
  let ackLat: number[] = [];
  let timeouts = 0;
  const take = (): ProbeResult => {
    const r = { visible: summarize(visible), ack: summarize(ackLat), timeouts };
    visible = [];
    ackLat = [];
    timeouts = 0;
    return r;
  };
  let running = true;
  let k = 0;
  const loop = (async () => {
    while (running) {
      k++;
      const lat = BASE.lat + (k % 2) * 1e-5;
      const ts = Math.max(lastTs + 1, Date.now());
      lastTs = ts;
      const t0 = nowMs();
      const ackP = sendWait({ t: 'loc', lat, lng: BASE.lng, ts }, id++);
      let seen = NaN;
      while (nowMs() - t0 < 5000) {
        try {
          const r = await fetch(url, { headers: { authorization: `Bearer ${ops}` } });
          const body = (await r.json()) as { drivers?: Array<{ lat: number }> };
          if (body.drivers?.[0]?.lat === lat) {
            seen = nowMs();
            break;
          }
        } catch {
          /* server busy: retry */
        }
      }
      const ackT = await ackP;
      if (Number.isFinite(seen)) visible.push(seen - t0);
      else timeouts++;
      if (Number.isFinite(ackT)) ackLat.push(ackT - t0);
      await sleep(everyMs);
    }
  })();
  return {
    take,
    stop: async () => {
      running = false;
      await loop;
      ws.close();
      return take();
    },
  };
}
