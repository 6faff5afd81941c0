// Fleet size gauges: the live driver count of every city, sampled into the metrics on a timer.
import type { Metrics } from '../observability/metrics.js';
import type { FleetRegistry } from './fleet-registry.js';

/** Sample every city's live driver count into `fleetDrivers` every `everyMs` ms; returns the stop function. */
export function startFleetGauges(fleet: FleetRegistry, metrics: Metrics, everyMs = 1000): () => void {
  const timer = setInterval(() => {
    for (const f of fleet.cities()) metrics.fleetDrivers.set({ city: f.name }, f.size);
  }, everyMs);
  return () => clearInterval(timer);
}
