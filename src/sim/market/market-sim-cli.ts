// `taxiway sim`: the marketplace simulator's command. Loads the city's trips, fits its ETA, runs each policy on the same demand, prints.
import { readTripCsv } from '../../eta/trip-csv.js';
import { packagePath } from '../../util/package-root.js';
import { buildDemand, driverStarts, usableTrips } from './demand.js';
import { runPolicy } from './market-run.js';
import { SIM_CITIES, parseSimOptions } from './sim-options.js';
import type { SimOptions } from './sim-options.js';
import { simEta } from './sim-eta.js';
import { jsonReport, textReport } from './sim-report.js';
import type { PolicyResult } from './sim-stats.js';
import type { RunOutput } from './market-run.js';

/** Every policy's run on one city's demand; `onRun` sees each as it finishes. Exposed for tests. */
export async function simulate(o: SimOptions, onRun?: (r: RunOutput) => void): Promise<{ runs: RunOutput[]; requests: number; eta: string }> {
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
  return { runs, requests: demand.n, eta: eta.name };
}

/** Runs `taxiway sim`; a bad flag throws an Error naming it (the CLI prints it and exits 2). */
export async function runMarketSim(argv: string[]): Promise<number> {
  const o = parseSimOptions(argv);
  const { runs, requests, eta } = await simulate(o);
  const results: PolicyResult[] = runs.map((r) => r.result);
  process.stdout.write((o.json ? jsonReport(results) : textReport(o, requests, eta, results)) + '\n');
  return 0;
}
