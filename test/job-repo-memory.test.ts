// JobRepo contract against the in-memory adapter, alone and written through to LMDB (embedded mode's durable live state).
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MemoryJobRepo } from '../src/matching/memory-job-repo.js';
import type { JobRepo } from '../src/matching/job-repo.js';
import { LmdbState } from '../src/storage/lmdb/lmdb-state.js';
import { jobRepoContract } from './contract/job-repo-contract.js';

jobRepoContract(t, 'memory', async () => new MemoryJobRepo());

const root = mkdtempSync(path.join(tmpdir(), 'taxiway-jobrepo-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));
const states = new Map<JobRepo, { dir: string; state: LmdbState }>();
let n = 0;
function openAt(dir: string): MemoryJobRepo {
  const state = LmdbState.open(dir);
  const repo = new MemoryJobRepo(undefined, { docs: state.table('jobs'), offers: state.table('offers'), active: state.table('active') });
  const close = repo.close.bind(repo);
  // Closing the repository also closes (and so flushes) its LMDB environment, as the app's shutdown does.
  repo.close = async () => {
    await close();
    await state.close();
  };
  states.set(repo, { dir, state });
  return repo;
}
jobRepoContract(t, 'memory + lmdb', async () => openAt(path.join(root, `r${n++}`)), {
  reopen: async (closed) => openAt(states.get(closed)!.dir),
});

t.test('live state: a write after close is reported and dropped, never thrown (lmdb-js would throw from a setImmediate)', async (t) => {
  const errors: string[] = [];
  const state = LmdbState.open(path.join(root, 'closed'), (e) => errors.push((e as Error).message));
  const table = state.table<{ v: number }>('x');
  table.put('a', { v: 1 });
  await state.close();
  table.put('b', { v: 2 });
  table.remove('a');
  await new Promise((r) => setTimeout(r, 50));
  t.equal(errors.length, 2);
  t.match(errors[0], /closed/);
  const again = LmdbState.open(path.join(root, 'closed'));
  t.same(again.table('x').entries(), [['a', { v: 1 }]], 'what was written before close is there');
  await again.close();
});
