// Fleet expiry reaction on the real pieces: an expired driver is forgotten by ingest (its fix rules) and by ETA (its fix pairing).
import t from 'tap';
import { EtaService } from '../src/eta/eta-service.js';
import { MemoryEtaStateStore } from '../src/eta/eta-state-store.js';
import { forgetExpired } from '../src/fleet/expiry-forget.js';
import { FleetRegistry } from '../src/fleet/fleet-registry.js';
import { FixVerdict, Ingest } from '../src/ingest/ingest.js';
import { createLogger } from '../src/observability/logger.js';
import { Metrics } from '../src/observability/metrics.js';
import { MemoryStorage } from '../src/storage/memory-storage.js';

const CITY = 'world';

t.test('expired drivers are forgotten by ingest and by the ETA fix pairing', async (t) => {
  const fleet = new FleetRegistry({ cities: [{ name: CITY, timezone: 'UTC', boundary: null }], rebuildMs: 1000, expireMs: 60_000 });
  const storage = new MemoryStorage();
  const ingest = new Ingest(fleet, storage, new Metrics());
  const eta = await EtaService.open({
    cities: [{ name: CITY, timezone: 'UTC', boundary: null }], locator: fleet.locator, store: new MemoryEtaStateStore(),
    logger: createLogger('silent'), fallbackSpeedMps: 8.3, baseDir: '.', isWriter: async () => true,
  });
  t.teardown(async () => {
    await eta.stop();
    await storage.close();
  });
  fleet.addExpireListener(forgetExpired([ingest, eta]));
  const t0 = Date.now() - 120_000;
  const f = { ts: t0, lat: 45, lng: 7, hdg: NaN, spd: NaN, acc: NaN };
  t.equal(ingest.accept('d1', f, Date.now()), FixVerdict.live);
  t.equal(ingest.accept('d1', f, Date.now()), FixVerdict.duplicate, 'known driver: the same fix again is a duplicate');
  eta.observeFix(CITY, 'd1', 45, 7, t0);

  fleet.expire(Date.now());
  t.equal(fleet.fleetOf('d1'), undefined, 'expired from the live fleet');
  t.equal(ingest.accept('d1', f, Date.now()), FixVerdict.live, 'ingest forgot the driver: its fix is new again');
  // ETA forgot d1's last fix: the next one starts a new pair instead of closing a 10 s segment.
  eta.observeFix(CITY, 'd1', 45.0009, 7, t0 + 10_000);
  t.equal(eta.telemetryS(CITY), 0, 'no segment across the expiry');
  eta.observeFix(CITY, 'd1', 45.0018, 7, t0 + 20_000);
  t.ok(eta.telemetryS(CITY) > 0, 'pairs again after the expiry');
});
