// Lease contract against the in-memory adapter (two "nodes" sharing one instance).
import t from 'tap';
import { MemoryLease } from '../src/bus/lease.js';
import { leaseContract } from './contract/lease-contract.js';

leaseContract(t, 'memory lease', async () => {
  const l = new MemoryLease();
  return [l, l];
});
