// Bus and Timers contracts against the in-memory adapters.
import t from 'tap';
import { MemoryBus } from '../src/bus/bus.js';
import { MemoryTimers } from '../src/bus/timers.js';
import { busContract, timersContract } from './contract/bus-timers-contract.js';

busContract(t, 'memory bus', async () => {
  const b = new MemoryBus();
  return [b, b];
}, { crossNode: false });
timersContract(t, 'memory timers', async () => {
  const x = new MemoryTimers();
  return [x, x];
}, { durableAcrossNodes: false });
