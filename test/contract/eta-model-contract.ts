// Contract suite for the EtaModel port, run against the baseline, the learned model (unfitted and fitted) and the city router.
import type { EtaModel } from '../../src/eta/eta-model.js';
import type { TapTest } from './storage-contract.js';

/** Trips around (45, 7) and one far away (outside any city), degrees; times on a weekday peak and at night. */
const TRIPS: ReadonlyArray<readonly [number, number, number, number]> = [
  [45, 7, 45.03, 7.02], [45.02, 7.01, 45, 7], [45.01, 7.01, 45.01, 7.01], [45, 7, 45.4, 7.5], [10, 10, 10.1, 10.2],
];
const TIMES = [Date.UTC(2024, 2, 13, 8, 30), Date.UTC(2024, 2, 16, 2, 0)];

/**
 * Guarantees checked (eta/eta-model.ts): a pure estimate (the same question gets the same answer, whatever
 * was asked in between); `seconds` is `estimate().eta_s`; `secondsMany` answers like `seconds` for every
 * origin, through a slot list or without one, into a typed array or a plain one; answers are finite and
 * not negative.
 */
export function etaModelContract(t: TapTest, name: string, make: () => EtaModel): void {
  t.test(`${name}: seconds is estimate().eta_s; finite, not negative; the same answer every time`, async (t) => {
    const m = make();
    const first = TRIPS.flatMap((q) => TIMES.map((at) => m.seconds(...q, at)));
    for (const q of TRIPS) {
      for (const at of TIMES) {
        const e = m.estimate(...q, at);
        t.equal(e.eta_s, m.seconds(...q, at), `${q} at ${at}`);
        t.ok(Number.isFinite(e.eta_s) && e.eta_s >= 0, `eta_s ${e.eta_s}`);
        t.ok(Number.isFinite(e.distance_m) && e.distance_m >= 0, `distance_m ${e.distance_m}`);
      }
    }
    // Asked again in another order: a cache inside the model must not leak between questions.
    const again = [...TRIPS].reverse().flatMap((q) => [...TIMES].reverse().map((at) => m.seconds(...q, at))).reverse();
    t.same(again, first);
  });

  t.test(`${name}: secondsMany answers like seconds, with or without a slot list`, async (t) => {
    const m = make();
    const lat = Float64Array.of(45.01, 45.03, 44.99, 10.05);
    const lng = Float64Array.of(7.01, 7.04, 6.98, 10.1);
    const slots = Int32Array.of(3, 1, 0);
    for (const at of TIMES) {
      const each = (j: number): number => m.seconds(lat[j]!, lng[j]!, 45, 7, at);
      const out = new Float64Array(4);
      m.secondsMany(lat, lng, null, 4, 45, 7, at, out);
      t.same([...out], [0, 1, 2, 3].map(each), 'no slot list');
      const plain: number[] = [];
      m.secondsMany(lat, lng, slots, 3, 45, 7, at, plain);
      t.same(plain.slice(0, 3), [...slots].map(each), 'slot list, plain array');
    }
  });
}
