// `taxiway replay` against a real embedded node: every Porto fix sent is judged, and every accepted one is in history.
import t from 'tap';
import { DEFAULT_PORTO_FILE, runReplay } from '../src/sim/replay.js';
import { replayFleet } from '../src/sim/replay-fleet.js';
import { loadPortoFleet } from '../src/sim/replay-porto.js';
import { splitCsvLine } from '../src/util/csv.js';
import { SECRET, removeDir, startServer } from './helpers/server.js';

t.test('Porto CSV: quoted fields, all trips, one time-ordered trace per taxi', async (t) => {
  t.same(splitCsvLine('"a","b,c","",x,"q""q"'), ['a', 'b,c', '', 'x', 'q"q']);
  const fleet = loadPortoFleet(DEFAULT_PORTO_FILE);
  t.equal(fleet.trips, 699);
  t.equal(fleet.taxis.length, 270, '271 taxis, one of them with only an empty trip');
  t.equal(fleet.fixes, 33_568);
  t.ok(fleet.taxis.every((tx) => tx.ts.every((ts, i) => i === 0 || ts > tx.ts[i - 1]!)), 'every trace strictly time-ordered');
  t.equal(fleet.firstTs, 1372636853000);
});

t.test('replay streams the fleet through the driver protocol; history holds every accepted fix', async (t) => {
  const s = await startServer();
  t.teardown(async () => {
    await s.stop();
    removeDir(s.dataDir);
  });
  const fleet = loadPortoFleet(DEFAULT_PORTO_FILE, { maxTaxis: 60 });
  // 9.3 recorded hours at 4000x: about 8 s.
  const r = await replayFleet({ fleet, url: s.wsUrl, secret: SECRET, speed: 4000 });
  t.equal(r.sent, fleet.fixes, `sent ${r.sent} fixes of ${r.taxis} taxis in ${r.seconds} s`);
  const accepted = (await s.app.metrics.fixesAccepted.get()).values[0]!.value;
  const rejected = (await s.app.metrics.fixesRejected.get()).values.reduce((n, v) => n + v.value, 0);
  t.equal(accepted + rejected, r.sent, `every fix judged: ${accepted} accepted, ${rejected} rejected`);
  t.equal(r.rejected, rejected, 'the replay counted every err');
  s.app.ingest.flush();
  await s.app.storage.flush();
  let stored = 0;
  for (const tx of fleet.taxis) stored += (await s.app.storage.track(`porto-${tx.taxi}`, 0, Date.now() + 60_000, 10_000)).points.length;
  t.equal(stored, accepted, 'stored fixes = taxiway_fixes_accepted_total');
  const last = await s.app.storage.track(`porto-${fleet.taxis[0]!.taxi}`, Date.now() - 60_000, Date.now() + 60_000, 10);
  t.ok(last.points.length > 0, 'the last fixes are stamped within the last minute (times shifted to now)');
});

t.test('runReplay: usage errors exit 2 with a message', async (t) => {
  t.equal(await runReplay(['--speed', '0'], { TAXIWAY_AUTH_SECRET: SECRET }), 2);
  t.equal(await runReplay([], {}), 2, 'no secret');
  t.equal(await runReplay(['--url', 'http://x'], { TAXIWAY_AUTH_SECRET: SECRET }), 2);
});
