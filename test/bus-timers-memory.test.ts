// Bus and Timers contracts against the in-memory adapters (timers also written through to LMDB, as in embedded mode).
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MemoryBus } from '../src/bus/bus.js';
import { MemoryTimers } from '../src/bus/timers.js';
import type { StoredTimer, Timers } from '../src/bus/timers.js';
import { LmdbState } from '../src/storage/lmdb/lmdb-state.js';
import { busContract, timersContract } from './contract/bus-timers-contract.js';

busContract(t, 'memory bus', async () => {
  const b = new MemoryBus();
  return [b, b];
}, { crossNode: false });
timersContract(t, 'memory timers', async () => {
  const x = new MemoryTimers();
  return [x, x];
}, { durableAcrossNodes: false });

const root = mkdtempSync(path.join(tmpdir(), 'taxiway-timers-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));
const dirs = new Map<Timers, string>();
let n = 0;
function openAt(dir: string): MemoryTimers {
  const state = LmdbState.open(dir);
  const x = new MemoryTimers(state.table<StoredTimer>('timers'));
  const close = x.close.bind(x);
  x.close = async () => {
    await close();
    await state.close();
  };
  dirs.set(x, dir);
  return x;
}
timersContract(t, 'memory timers + lmdb', async () => {
  const x = openAt(path.join(root, `t${n++}`));
  return [x, x];
}, { durableAcrossNodes: false, reopen: async (closed) => openAt(dirs.get(closed)!) });
