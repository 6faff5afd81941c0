// EtaModel contract against every adapter: baseline, learned (unfitted and fitted) and the per-city router.
import t from 'tap';
import { BaselineEta } from '../src/eta/baseline.js';
import { CityEta } from '../src/eta/city-eta.js';
import { mulberry32 } from '../src/eta/eta-cv.js';
import { LearnedEta } from '../src/eta/learned-eta.js';
import type { TripRow } from '../src/eta/trip-csv.js';
import { haversineMetres } from '../src/fleet/geo.js';
import { etaModelContract } from './contract/eta-model-contract.js';

/** Synthetic trips around (45, 7) at 10 m/s with a 1.3 detour, 60 s overhead. */
function trips(n: number): TripRow[] {
  const rnd = mulberry32(7);
  return Array.from({ length: n }, (_, i) => {
    const fromLat = 45 + (rnd() - 0.5) * 0.1, fromLng = 7 + (rnd() - 0.5) * 0.1;
    const toLat = 45 + (rnd() - 0.5) * 0.1, toLng = 7 + (rnd() - 0.5) * 0.1;
    const durationS = Math.round(60 + (haversineMetres(fromLat, fromLng, toLat, toLng) * 1.3) / 10);
    return { id: `t${i}`, fromLat, fromLng, toLat, toLng, weekday: 1 + (i % 7), hour: i % 24, durationS };
  });
}

let fitted: LearnedEta | null = null;
const learned = (): LearnedEta => {
  if (!fitted) {
    fitted = new LearnedEta({ city: 'fx', timeZone: 'UTC' });
    fitted.addHistory(trips(1500));
    fitted.fit();
  }
  return fitted;
};

etaModelContract(t, 'baseline', () => new BaselineEta(8.3));
etaModelContract(t, 'learned, unfitted', () => new LearnedEta({ city: 'fx', timeZone: 'UTC' }));
etaModelContract(t, 'learned, fitted', learned);
etaModelContract(t, 'city router', () => new CityEta({
  locate: (lat, lng) => (Math.abs(lat - 45) < 0.2 && Math.abs(lng - 7) < 0.2 ? 'fx' : null),
  models: new Map([['fx', learned()]]),
  fallback: new BaselineEta(8.3),
}));
