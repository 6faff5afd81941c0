// Runs the live-state contract against the LMDB adapter (in temp dirs) and the in-memory adapter.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { LmdbState } from '../src/storage/lmdb/lmdb-state.js';
import { MemoryLiveState } from '../src/storage/memory-live-state.js';
import { liveStateContract } from './contract/live-state-contract.js';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-live-state-'));
t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
let n = 0;

liveStateContract(
  t,
  'LmdbState',
  async () => {
    const dir = path.join(base, `s${n++}`);
    const errors: unknown[] = [];
    return { store: LmdbState.open(dir, (e) => errors.push(e)), errors, reopen: async () => LmdbState.open(dir) };
  },
  { durable: true },
);

liveStateContract(
  t,
  'MemoryLiveState',
  async () => {
    const errors: unknown[] = [];
    return { store: new MemoryLiveState((e) => errors.push(e)), errors };
  },
  { durable: false },
);
