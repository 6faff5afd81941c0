// NodeRegistry contract against the in-memory adapter (registries of one key space share one table).
import t from 'tap';
import { MemoryNodeRegistry } from '../src/bus/node-registry.js';
import type { MemoryNodeTable } from '../src/bus/node-registry.js';
import { nodeRegistryContract } from './contract/node-registry-contract.js';

const tables = new Map<string, MemoryNodeTable>();
nodeRegistryContract(t, 'memory', async (ttlMs, space) => {
  let table = tables.get(space);
  if (!table) tables.set(space, (table = new Map()));
  return new MemoryNodeRegistry(ttlMs, table);
});
