// Minimum-cost assignment of jobs to candidate drivers (batched dispatch): sparse graph split into components, each solved with `munkres`.
import { munkres } from 'munkres';

/**
 * The jobs × drivers graph of one batch: for job `j`, `drivers[j][i]` (a driver key, e.g. its fleet slot)
 * costs `costs[j][i]` (pickup ETA, s). Keys are only compared, never used as indexes.
 */
export interface AssignmentGraph {
  drivers: ReadonlyArray<ArrayLike<number>>;
  costs: ReadonlyArray<ArrayLike<number>>;
}

/**
 * The assignment minimising total cost, where leaving a job unassigned costs `penalty` (s): per job the
 * chosen driver key, or -1. Each driver gets at most one job. Guarantee: optimal for that objective.
 *
 * Why components: a dense Hungarian over all jobs × the union of their candidates is O(n²m) (500 jobs ×
 * 8,000 drivers: seconds); but a job only competes with jobs sharing a candidate, so the graph falls
 * apart into small connected components (found with union-find), each a small dense problem:
 * rows its jobs, columns its drivers plus one "unassigned" column per job (cost `penalty` for its own
 * job, `big` for the others, and `big` for every non-edge, so neither is ever chosen).
 */
export function solveAssignment(g: AssignmentGraph, penalty: number): Int32Array {
  const n = g.drivers.length;
  const out = new Int32Array(n).fill(-1);
  const parent = new Int32Array(n);
  for (let j = 0; j < n; j++) parent[j] = j;
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x] = parent[parent[x]!]!;
    return x;
  };
  const firstJob = new Map<number, number>();
  for (let j = 0; j < n; j++) {
    const ds = g.drivers[j]!;
    for (let i = 0; i < ds.length; i++) {
      const f = firstJob.get(ds[i]!);
      if (f === undefined) firstJob.set(ds[i]!, j);
      else {
        const a = find(f);
        const b = find(j);
        if (a !== b) parent[a] = b;
      }
    }
  }
  const comps = new Map<number, number[]>();
  for (let j = 0; j < n; j++) {
    const r = find(j);
    const c = comps.get(r);
    if (c) c.push(j);
    else comps.set(r, [j]);
  }
  for (const jobs of comps.values()) solveComponent(g, jobs, penalty, out);
  return out;
}

function solveComponent(g: AssignmentGraph, jobs: number[], penalty: number, out: Int32Array): void {
  if (jobs.length === 1) {
    // One job: its cheapest candidate, if cheaper than leaving it unassigned.
    const j = jobs[0]!;
    const ds = g.drivers[j]!;
    const cs = g.costs[j]!;
    let best = -1;
    let bestCost = penalty;
    for (let i = 0; i < ds.length; i++) if (cs[i]! < bestCost) [best, bestCost] = [ds[i]!, cs[i]!];
    out[j] = best;
    return;
  }
  const col = new Map<number, number>();
  const keys: number[] = [];
  for (const j of jobs) {
    const ds = g.drivers[j]!;
    for (let i = 0; i < ds.length; i++) {
      if (col.has(ds[i]!)) continue;
      col.set(ds[i]!, keys.length);
      keys.push(ds[i]!);
    }
  }
  const r = jobs.length;
  const c = keys.length;
  // Any solution using a `big` entry costs more than leaving every job unassigned (r × penalty).
  const big = (r + 1) * penalty + 1;
  const m: Float64Array[] = [];
  for (let y = 0; y < r; y++) {
    const row = new Float64Array(c + r).fill(big);
    const j = jobs[y]!;
    const ds = g.drivers[j]!;
    const cs = g.costs[j]!;
    for (let i = 0; i < ds.length; i++) row[col.get(ds[i]!)!] = Math.min(row[col.get(ds[i]!)!]!, cs[i]!);
    row[c + y] = penalty;
    m.push(row);
  }
  for (const [y, x] of munkres(m)) out[jobs[y]!] = x < c && m[y]![x]! < big ? keys[x]! : -1;
}
