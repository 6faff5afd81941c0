// Options of `taxiway sim` (the marketplace simulator): parsed and checked, every error naming the flag.
import { parseArgs, take } from '../../cli-args.js';
import type { PolicyName } from '../../matching/dispatch-policy.js';
import { checkPolicy } from './sim-policies.js';
import { SIM_ETAS } from './sim-eta.js';
import type { SimEtaKind } from './sim-eta.js';

/** Cities with shipped demand (assets/<city>/trips_train.csv) and their IANA zone (for the ETA's time of day). */
export const SIM_CITIES: Readonly<Record<string, { trips: string; timeZone: string }>> = {
  porto: { trips: 'assets/porto/trips_train.csv', timeZone: 'Europe/Lisbon' },
  nyc: { trips: 'assets/nyc/trips_train.csv', timeZone: 'America/New_York' },
};

export interface SimOptions {
  city: string;
  /** Policies to run, in order, each on the same demand and seed; no duplicates. */
  policies: PolicyName[];
  drivers: number;
  /** Simulated hours of demand (the run goes on until every job is final). */
  hours: number;
  seed: number;
  /** Demand multiplier: each trip of the data is requested `scale` times per simulated hour on average. */
  scale: number;
  /** Probability that a driver declines an offer, 0-1. */
  decline: number;
  /** ETA model that ranks drivers and times every drive. */
  eta: SimEtaKind;
  json: boolean;
}

export const SIM_DEFAULTS: Omit<SimOptions, 'policies'> & { policies: PolicyName[] } = {
  city: 'porto', policies: ['greedy'], drivers: 200, hours: 1, seed: 1, scale: 1, decline: 0.1, eta: 'baseline', json: false,
};

/** Bounds of the numeric flags: enough for any study, small enough that a typo cannot eat the machine. */
const LIMITS = { drivers: [1, 100_000], hours: [0.01, 48], scale: [0.01, 100], decline: [0, 1] } as const;

/** Parse `taxiway sim` arguments; throws Error with a message naming the flag (the CLI prints it, exit 2). */
export function parseSimOptions(argv: readonly string[]): SimOptions {
  // --policy may repeat: pull every occurrence out before the generic parser keeps only the last.
  const rest: string[] = [];
  const policies: PolicyName[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    let v: string | undefined;
    if (a === '--policy') {
      v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error('option --policy needs a value (greedy or batched)');
    } else if (a.startsWith('--policy=')) v = a.slice('--policy='.length);
    else {
      rest.push(a);
      continue;
    }
    const p = checkPolicy(v);
    if (p instanceof Error) throw p;
    if (policies.includes(p)) throw new Error(`--policy ${p} is given twice`);
    policies.push(p);
  }
  const { options, positional } = parseArgs(rest, new Set(['json']));
  if (positional.length) throw new Error(`--: unexpected argument ${positional[0]}`);
  const city = take(options, 'city') ?? SIM_DEFAULTS.city;
  if (!Object.hasOwn(SIM_CITIES, city)) throw new Error(`--city ${city} has no demand data (${Object.keys(SIM_CITIES).join(', ')})`);
  const o: SimOptions = {
    city,
    policies: policies.length ? policies : [...SIM_DEFAULTS.policies],
    drivers: num(take(options, 'drivers'), 'drivers', SIM_DEFAULTS.drivers, LIMITS.drivers, true),
    hours: num(take(options, 'hours'), 'hours', SIM_DEFAULTS.hours, LIMITS.hours, false),
    seed: num(take(options, 'seed'), 'seed', SIM_DEFAULTS.seed, [0, 2 ** 32 - 1], true),
    scale: num(take(options, 'scale'), 'scale', SIM_DEFAULTS.scale, LIMITS.scale, false),
    decline: num(take(options, 'decline'), 'decline', SIM_DEFAULTS.decline, LIMITS.decline, false),
    eta: etaKind(take(options, 'eta')),
    json: take(options, 'json') === 'true',
  };
  delete options.help;
  const unknown = Object.keys(options);
  if (unknown.length) throw new Error(`--${unknown[0]} is not an option of taxiway sim (taxiway sim --help)`);
  return o;
}

function num(v: string | undefined, name: string, def: number, [min, max]: readonly [number, number], integer: boolean): number {
  if (v === undefined) return def;
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new Error(`--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, not ${JSON.stringify(v)}`);
  }
  return n;
}

function etaKind(v: string | undefined): SimEtaKind {
  if (v === undefined) return SIM_DEFAULTS.eta;
  if (!(SIM_ETAS as readonly string[]).includes(v)) throw new Error(`--eta must be ${SIM_ETAS.join(' or ')}, not ${JSON.stringify(v)}`);
  return v as SimEtaKind;
}
