// One policy's run of the marketplace simulator: a fresh node and world on a virtual clock, stepped until every job is final.
import { performance } from 'node:perf_hooks';
import type { EtaModel } from '../../eta/eta-model.js';
import type { PolicyName } from '../../matching/dispatch-policy.js';
import { VirtualClock } from '../../util/virtual-clock.js';
import type { Demand } from './demand.js';
import { MarketNode } from './market-node.js';
import { MarketWorld } from './market-world.js';
import { SimDrivers } from './sim-drivers.js';
import { onlyPolicy } from './sim-policies.js';
import { summarise } from './sim-stats.js';
import type { PolicyResult, RunTally } from './sim-stats.js';

/**
 * Virtual start of every run: Wednesday 2 December 2026, 08:00 UTC (a weekday morning for the ETA's time
 * features). Fixed, so a seed gives the same run on any day.
 */
export const SIM_START_MS = Date.UTC(2026, 11, 2, 8, 0, 0);
/** After the end of demand the run goes on until every job is final, but never longer than this, ms. */
export const DRAIN_CAP_MS = 6 * 3_600_000;

export interface RunInput {
  city: string;
  timeZone: string;
  policy: PolicyName;
  demand: Demand;
  /** [lat, lng] per driver, degrees. */
  starts: Float64Array;
  eta: EtaModel;
  hours: number;
  decline: number;
  seed: number;
}

export interface RunOutput { result: PolicyResult; tally: RunTally }

/** Yield to the event loop once: every promise chain the last step started (repository, dispatch, timers) settles first. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

export async function runPolicy(inp: RunInput): Promise<RunOutput> {
  const wall0 = performance.now();
  const clock = new VirtualClock(SIM_START_MS);
  const demandEndMs = SIM_START_MS + inp.hours * 3_600_000;
  const drivers = new SimDrivers(inp.starts, SIM_START_MS);
  const world = new MarketWorld({
    demand: inp.demand, drivers, eta: inp.eta, decline: inp.decline, seed: inp.seed, startMs: SIM_START_MS, demandEndMs,
  }, clock);
  const node = new MarketNode({ city: inp.city, timeZone: inp.timeZone, clock, eta: inp.eta, policyFor: onlyPolicy(inp.policy), listener: world });
  try {
    world.attach(node);
    await settle();
    const cap = demandEndMs + DRAIN_CAP_MS;
    while (!world.done && world.nextTime() <= cap) {
      await world.step();
      await settle();
    }
  } finally {
    await node.close();
  }
  const tally = world.tally;
  tally.live = world.liveJobs;
  tally.endMs = clock.now() - SIM_START_MS;
  // Stretches still busy at the end count up to the end of demand.
  for (let i = 0; i < drivers.n; i++) drivers.busyEnd(i, clock.now(), demandEndMs);
  tally.busyMs = drivers.busyMs;
  const wallS = (performance.now() - wall0) / 1000;
  return { result: summarise(inp.policy, tally, drivers.n, inp.hours * 3_600_000, wallS), tally };
}
