// The exact fix rule: future, duplicates, order, jumps and the three-fix recovery.
import t from 'tap';
import { DriverTracks, FixVerdict, tooFast } from '../src/ingest/jump-filter.js';
import { haversineMetres } from '../src/fleet/geo.js';
import { Limits } from '../src/protocol/messages.js';
import { mulberry32 } from '../src/util/random.js';

/** One driver's view of DriverTracks, so each case reads like a single track. */
class DriverTrack {
  private static shared = new DriverTracks(16);
  private static n = 0;
  private readonly slot = DriverTrack.shared.slotFor('d' + DriverTrack.n++);
  judge(ts: number, lat: number, lng: number, now: number): number {
    return DriverTrack.shared.judge(this.slot, ts, lat, lng, now);
  }
  get lastLat(): number {
    return DriverTrack.shared.anchor(this.slot).lat;
  }
}

const T0 = 1_764_300_000_000;
const NOW = T0 + 100_000;

t.test('first fix, in-order, out-of-order, duplicate, future', async (t) => {
  const d = new DriverTrack();
  t.equal(d.judge(T0, 41.15, -8.61, NOW), FixVerdict.live);
  t.equal(d.judge(T0 + 15_000, 41.151, -8.61, NOW), FixVerdict.live);
  t.equal(d.judge(T0 + 5_000, 41.1505, -8.61, NOW), FixVerdict.history);
  t.equal(d.judge(T0 + 5_000, 41.1505, -8.61, NOW), FixVerdict.duplicate);
  t.equal(d.judge(T0 + 15_000, 41.151, -8.61, NOW), FixVerdict.duplicate);
  t.equal(d.judge(NOW + 60_001, 41.151, -8.61, NOW), FixVerdict.future);
  t.equal(d.judge(NOW + 60_000, 41.152, -8.61, NOW), FixVerdict.live, 'exactly 60 s ahead is fine');
});

t.test('250 km/h boundary', async (t) => {
  const d = new DriverTrack();
  d.judge(T0, 0, 0, NOW);
  // 0.01 deg of latitude ≈ 1111.95 m; in 16 s that is 250.2 km/h, in 16.1 s 248.6 km/h.
  t.equal(d.judge(T0 + 16_000, 0.01, 0, NOW), FixVerdict.jump);
  t.equal(d.judge(T0 + 16_100, 0.01, 0, NOW), FixVerdict.live);
});

t.test('a lone outlier is rejected and the track continues', async (t) => {
  const d = new DriverTrack();
  d.judge(T0, 41.15, -8.61, NOW);
  t.equal(d.judge(T0 + 15_000, 41.60, -8.61, NOW), FixVerdict.jump);
  t.equal(d.judge(T0 + 30_000, 41.1502, -8.61, NOW), FixVerdict.live, 'back on track clears the chain');
  t.equal(d.judge(T0 + 45_000, 41.60, -8.61, NOW), FixVerdict.jump);
  t.equal(d.judge(T0 + 60_000, 41.6001, -8.61, NOW), FixVerdict.jump, 'second agreeing jump fix');
  t.equal(d.lastLat, 41.1502);
});

t.test('three agreeing fixes after a jump win: a bad anchor never locks a driver out', async (t) => {
  const d = new DriverTrack();
  d.judge(T0, 10, 10, NOW); // a wrong first fix (e.g. a stale cell-tower position)
  t.equal(d.judge(T0 + 1000, 41.15, -8.61, NOW), FixVerdict.jump);
  t.equal(d.judge(T0 + 2000, 41.1501, -8.61, NOW), FixVerdict.jump);
  t.equal(d.judge(T0 + 3000, 41.1502, -8.61, NOW), FixVerdict.live);
  t.equal(d.lastLat, 41.1502);
  t.equal(d.judge(T0 + 4000, 41.1503, -8.61, NOW), FixVerdict.live);
});

t.test('jump fixes that disagree restart the chain', async (t) => {
  const d = new DriverTrack();
  d.judge(T0, 0, 0, NOW);
  t.equal(d.judge(T0 + 1000, 5, 5, NOW), FixVerdict.jump);
  t.equal(d.judge(T0 + 2000, -5, -5, NOW), FixVerdict.jump, 'disagrees with the chain: new chain');
  t.equal(d.judge(T0 + 3000, -5.0001, -5, NOW), FixVerdict.jump, 'chain of two');
  t.equal(d.judge(T0 + 4000, -5.0002, -5, NOW), FixVerdict.live, 'chain of three wins');
});

t.test('old fixes never build a recovery chain (the live position never moves back in time)', async (t) => {
  const d = new DriverTrack();
  d.judge(T0, 41.15, -8.61, NOW);
  t.equal(d.judge(T0 - 600_000, 47, 2, NOW), FixVerdict.jump);
  t.equal(d.judge(T0 - 599_000, 47.0001, 2, NOW), FixVerdict.jump);
  t.equal(d.judge(T0 - 598_000, 47.0002, 2, NOW), FixVerdict.jump, 'still rejected: older than the anchor');
  t.equal(d.judge(T0 + 1000, 41.1501, -8.61, NOW), FixVerdict.live);
});

t.test('many drivers: slots grow and stay independent; forgotten slots are reused clean', async (t) => {
  const tracks = new DriverTracks(16);
  const slots: number[] = [];
  for (let i = 0; i < 500; i++) {
    const s = tracks.slotFor('g' + i);
    slots.push(s);
    t.equal(tracks.judge(s, T0 + i, i * 0.01, 0, NOW), FixVerdict.live);
  }
  for (let i = 0; i < 500; i++) t.equal(tracks.anchor(slots[i]!).lat, i * 0.01);
  t.equal(tracks.slotFor('g7'), slots[7], 'same driver, same slot');
  tracks.forget('g7', NOW);
  const reused = tracks.slotFor('newcomer');
  t.equal(reused, slots[7], 'slot reused');
  t.equal(tracks.anchor(reused).ts, -Infinity, 'with no inherited anchor');
  t.equal(tracks.judge(reused, T0 + 7, 0.07, 0, NOW), FixVerdict.live, 'nor inherited duplicates');
  t.equal(tracks.size, 500);
});

t.test('tooFast (bounds before haversine) gives the plain haversine rule verdict on 400,000 random pairs', async (t) => {
  const rnd = mulberry32(18);
  const plain = (t1: number, a1: number, o1: number, t2: number, a2: number, o2: number): boolean => {
    const d = haversineMetres(a1, o1, a2, o2);
    const dt = Math.abs(t2 - t1) / 1000;
    if (dt === 0) return d > 0;
    return d / dt > Limits.maxSpeedMps;
  };
  let differ = 0;
  let near = 0;
  for (let i = 0; i < 400_000; i++) {
    const lat1 = -89 + 178 * rnd();
    const lng1 = -180 + 360 * rnd();
    const dt = [0, 1, 10, 250, 1000, 60_000][i % 6]!;
    // Moves from centimetres to thousands of km, across the antimeridian too; a quarter right at the limit.
    const scale = 10 ** (-7 + 8 * rnd());
    let lat2 = Math.max(-90, Math.min(90, lat1 + (rnd() - 0.5) * scale));
    let lng2 = lng1 + (rnd() - 0.5) * scale;
    if (lng2 > 180) lng2 -= 360;
    if (lng2 < -180) lng2 += 360;
    if (i % 4 === 0 && dt > 0) {
      // Put the second point at the speed limit's distance along the meridian (± a hair).
      const limitDeg = (Limits.maxSpeedMps * dt) / 1000 / 111_195.08;
      lat2 = Math.max(-90, Math.min(90, lat1 + limitDeg * (1 + (rnd() - 0.5) * 1e-9)));
      lng2 = lng1;
      near++;
    }
    if (tooFast(0, lat1, lng1, dt, lat2, lng2) !== plain(0, lat1, lng1, dt, lat2, lng2)) differ++;
  }
  t.equal(differ, 0, `no verdict differs (${near} pairs within a hair of the limit)`);
});
