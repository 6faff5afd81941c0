// JobRepo contract against the in-memory adapter, alone and written through to LMDB (embedded mode's durable live state).
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MemoryJobRepo } from '../src/matching/memory-job-repo.js';
import type { JobRepo } from '../src/matching/job-repo.js';
import { LmdbState } from '../src/storage/lmdb-state.js';
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
