// `taxiway sim`: the marketplace simulator's command. Loads the city's trips, fits its ETA, runs each policy on the same demand, prints.
import { readTripCsv } from '../../eta/trip-csv.js';
import { packagePath } from '../../util/package-root.js';
import { buildDemand, driverStarts, usableTrips } from './demand.js';
import { SIM_START_MS, runPolicy } from './market-run.js';
import { BOARDING_MS } from './market-world.js';
import type { Demand } from './demand.js';
import type { EtaModel } from '../../eta/eta-model.js';
import { SIM_CITIES, parseSimOptions } from './sim-options.js';
import type { SimOptions } from './sim-options.js';
import { simEta } from './sim-eta.js';
import { jsonReport, textReport } from './sim-report.js';
import type { PolicyResult } from './sim-stats.js';
import type { RunOutput } from './market-run.js';

export interface SimOutcome {
  runs: RunOutput[];
  requests: number;
  /** Name of the ETA model used. */
  eta: string;
  /**
   * Drivers the demand keeps busy on average: every request's ride (ETA) plus boarding, summed, over the
   * simulated time, before any pickup drive. Supply equals demand at about this many drivers plus what
   * pickups take (a fifth to a third more); see README, "Marketplace simulator".
   */
  loadDrivers: number;
}

/** Driver time the requests need if each got a car at its door: rides at the ETA plus boarding, ms. */
export function offeredLoad(d: Demand, eta: EtaModel, atMs: number): number {
  let ms = 0;
  for (let k = 0; k < d.n; k++) ms += 1000 * eta.seconds(d.pickLat[k]!, d.pickLng[k]!, d.dropLat[k]!, d.dropLng[k]!, atMs + d.atMs[k]!) + BOARDING_MS;
  return ms;
}

/** Every policy's run on one city's demand; `onRun` sees each as it finishes. Exposed for tests. */
export async function simulate(o: SimOptions, onRun?: (r: RunOutput) => void): Promise<SimOutcome> {
  const city = SIM_CITIES[o.city]!;
  const trips = usableTrips(readTripCsv(packagePath(city.trips)));
  const demand = buildDemand(trips, o.hours, o.scale, o.seed);
  const starts = driverStarts(trips, o.drivers, o.seed);
  const eta = simEta(o.eta, o.city, city.timeZone, trips);
  const runs: RunOutput[] = [];
  for (const policy of o.policies) {
    const r = await runPolicy({ city: o.city, timeZone: city.timeZone, policy, demand, starts, eta, hours: o.hours, decline: o.decline, seed: o.seed });
    runs.push(r);
    onRun?.(r);
  }
  return { runs, requests: demand.n, eta: eta.name, loadDrivers: offeredLoad(demand, eta, SIM_START_MS) / (o.hours * 3_600_000) };
}

/** Runs `taxiway sim`; a bad flag throws an Error naming it (the CLI prints it and exits 2). */
export async function runMarketSim(argv: string[]): Promise<number> {
  const o = parseSimOptions(argv);
  const out = await simulate(o);
  const results: PolicyResult[] = out.runs.map((r) => r.result);
  process.stdout.write((o.json ? jsonReport(results) : textReport(o, out, results)) + '\n');
  return 0;
}
