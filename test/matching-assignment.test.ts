// The batch assignment solver against brute force on random small instances, and the crossing case.
import t from 'tap';
import { solveAssignment } from '../src/matching/assignment.js';
import type { AssignmentGraph } from '../src/matching/assignment.js';
import { mulberry32 } from '../src/util/random.js';

/** Total cost of a choice (driver key per job or -1), unassigned at `penalty`; NaN when a driver is used twice. */
function total(g: AssignmentGraph, choice: ArrayLike<number>, penalty: number): number {
  const used = new Set<number>();
  let sum = 0;
  for (let j = 0; j < g.drivers.length; j++) {
    const d = choice[j]!;
    if (d < 0) {
      sum += penalty;
      continue;
    }
    if (used.has(d)) return NaN;
    used.add(d);
    const i = Array.from(g.drivers[j]!).indexOf(d);
    if (i < 0) return NaN;
    sum += g.costs[j]![i]!;
  }
  return sum;
}

/** The optimum by trying every assignment (each job: one of its candidates or none). */
function brute(g: AssignmentGraph, penalty: number): number {
  let best = Infinity;
  const used = new Set<number>();
  const go = (j: number, sum: number): void => {
    if (sum >= best) return;
    if (j === g.drivers.length) {
      best = sum;
      return;
    }
    go(j + 1, sum + penalty);
    const ds = g.drivers[j]!;
    for (let i = 0; i < ds.length; i++) {
      if (used.has(ds[i]!)) continue;
      used.add(ds[i]!);
      go(j + 1, sum + g.costs[j]![i]!);
      used.delete(ds[i]!);
    }
  };
  go(0, 0);
  return best;
}

t.test('the crossing case: greedy (first job takes its nearest) is worse; the assignment picks the lower total', async (t) => {
  // Job A at 0 m, job B at 1000 m; d1 at 400 m, d2 at -2000 m (costs: metres).
  const g: AssignmentGraph = { drivers: [[1, 2], [1, 2]], costs: [[400, 2000], [600, 3000]] };
  const choice = solveAssignment(g, 1e6);
  t.same([...choice], [2, 1], 'A gets d2, B gets d1');
  t.equal(total(g, choice, 1e6), 2600, 'total 2600 against greedy 400 + 3000 = 3400');
});

t.test('random small instances: the solver matches brute force, never uses a driver twice', async (t) => {
  const rnd = mulberry32(13);
  let checked = 0;
  for (let k = 0; k < 300; k++) {
    const jobs = 1 + Math.floor(rnd() * 6);
    const drivers = 1 + Math.floor(rnd() * 7);
    const penalty = [50, 200, 1e4][k % 3]!;
    const g: AssignmentGraph = { drivers: [], costs: [] };
    for (let j = 0; j < jobs; j++) {
      const ds: number[] = [];
      const cs: number[] = [];
      for (let d = 0; d < drivers; d++) {
        if (rnd() < 0.5) continue;
        ds.push(d * 7 + 3); // keys are not indexes
        cs.push(Math.round(rnd() * 300));
      }
      (g.drivers as number[][]).push(ds);
      (g.costs as number[][]).push(cs);
    }
    const choice = solveAssignment(g, penalty);
    const got = total(g, choice, penalty);
    if (Number.isNaN(got)) t.fail(`instance ${k}: invalid assignment ${[...choice]}`);
    else if (got !== brute(g, penalty)) t.fail(`instance ${k}: ${got} against the optimum ${brute(g, penalty)}`);
    else checked++;
  }
  t.equal(checked, 300, 'all 300 optimal');
});

t.test('components: two far-apart groups are solved apart, empty candidate lists stay unassigned', async (t) => {
  const g: AssignmentGraph = { drivers: [[1], [1, 2], [], [9]], costs: [[10], [5, 20], [], [3]] };
  t.same([...solveAssignment(g, 1000)], [1, 2, -1, 9]);
  t.same([...solveAssignment({ drivers: [[1]], costs: [[50]] }, 40)], [-1], 'a job is left unassigned when that is cheaper than its only candidate');
});
