// The ETA model the simulator dispatches and drives with: the baseline at the city's own trip speed, or the city's learned model fitted on its trips.
import { BaselineEta } from '../../eta/baseline.js';
import { fitBaselineSpeed } from '../../eta/eta-train.js';
import type { EtaModel } from '../../eta/eta-model.js';
import { LearnedEta } from '../../eta/learned-eta.js';
import type { TripRow } from '../../eta/trip-csv.js';

export const SIM_ETAS = ['baseline', 'learned'] as const;
export type SimEtaKind = (typeof SIM_ETAS)[number];

/**
 * The model every policy of one command shares (it does not learn during a run, so each policy sees the
 * same one). `baseline`: straight-line distance x 1.3 at the mean door-to-door speed of `trips`
 * (Porto 6.1 m/s, NYC 4.3 m/s). `learned`: the city's learned ETA fitted on `trips`, what a city with
 * `eta.seedTrips` starts from; fitted on taxi trips, which all last minutes, it answers ~400 s even for
 * a 100 m pickup on Porto's 678 trips, so it is not the default (falls back to the baseline when too few
 * trips to fit).
 */
export function simEta(kind: SimEtaKind, city: string, timeZone: string, trips: readonly TripRow[]): EtaModel {
  if (kind === 'learned') {
    const m = new LearnedEta({ city, timeZone, maxTrips: Math.max(50_000, trips.length) });
    m.addHistory(trips);
    if (m.fitDue) m.fit();
    if (m.fitted) return m;
  }
  return new BaselineEta(fitBaselineSpeed(trips));
}
