// Fleet size gauges: each city's live driver count reaches the metrics on the timer, and stopping ends the timer.
import t from 'tap';
import { startFleetGauges } from '../src/fleet/fleet-gauges.js';
import { FleetRegistry } from '../src/fleet/fleet-registry.js';
import { Metrics } from '../src/observability/metrics.js';

t.test('live driver count per city is sampled into fleetDrivers', async (t) => {
  const fleet = new FleetRegistry({ cities: [{ name: 'world', timezone: 'UTC', boundary: null }], rebuildMs: 1000, expireMs: 60_000 });
  const metrics = new Metrics();
  const stop = startFleetGauges(fleet, metrics, 10);
  t.teardown(stop);
  const now = Date.now();
  fleet.update('d1', 45, 7, now, NaN, NaN);
  fleet.update('d2', 45.1, 7, now, NaN, NaN);
  await new Promise((r) => setTimeout(r, 50));
  const v = (await metrics.fleetDrivers.get()).values.find((x) => x.labels.city === 'world');
  t.equal(v?.value, 2);
});
