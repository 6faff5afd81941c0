// JobRepo contract against the in-memory adapter.
import t from 'tap';
import { MemoryJobRepo } from '../src/matching/memory-job-repo.js';
import { jobRepoContract } from './contract/job-repo-contract.js';

jobRepoContract(t, 'memory', async () => new MemoryJobRepo());
