// Printing the simulator's outcome: one table per policy for people, or the one `--json` object for scripts.
import type { SimOptions } from './sim-options.js';
import type { PolicyResult } from './sim-stats.js';

/** The `--json` output: exactly `{policies: [...]}` (one line). */
export function jsonReport(results: readonly PolicyResult[]): string {
  return JSON.stringify({ policies: results });
}

const pct = (v: number): string => (Number.isFinite(v) ? `${(v * 100).toFixed(1)} %` : 'n/a');
const sec = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(1)} s` : 'n/a');

/** One table per policy, after a line saying what was simulated. */
export function textReport(o: SimOptions, out: { requests: number; eta: string; loadDrivers: number }, results: readonly PolicyResult[]): string {
  const head = `taxiway sim: ${o.city}, ${o.drivers} drivers, ${o.hours} h of demand x${o.scale} (${out.requests} requests), ` +
    `decline ${o.decline}, seed ${o.seed}, ${out.eta} ETA\n` +
    `demand keeps ${out.loadDrivers.toFixed(0)} drivers busy with rides and boarding alone (pickup drives come on top)`;
  const tables = results.map((r) => {
    const rows: Array<[string, string]> = [
      ['jobs', String(r.jobs)],
      ['fulfilment', pct(r.fulfilment)],
      ['pickup wait mean', sec(r.pickup_wait_mean_s)],
      ['pickup wait p50', sec(r.pickup_wait_p50_s)],
      ['pickup wait p90', sec(r.pickup_wait_p90_s)],
      ['offers per job', Number.isFinite(r.offers_per_job) ? r.offers_per_job.toFixed(2) : 'n/a'],
      ['utilisation', pct(r.utilisation)],
      ['wall time', `${r.wall_s.toFixed(2)} s`],
    ];
    return [`policy ${r.policy}`, ...rows.map(([k, v]) => `  ${k.padEnd(18)}${v.padStart(10)}`)].join('\n');
  });
  return [head, ...tables].join('\n\n');
}
