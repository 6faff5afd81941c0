// EtaStateStore contract against the file adapter (embedded mode) and the in-memory one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { FileEtaStateStore, MemoryEtaStateStore } from '../src/eta/eta-state-store.js';
import { etaStateStoreContract } from './contract/eta-state-store-contract.js';

const root = mkdtempSync(path.join(tmpdir(), 'taxiway-eta-store-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

etaStateStoreContract(t, 'file store', async () => new FileEtaStateStore(path.join(root, `s${n++}`, 'eta')), {
  reopen: async (closed) => new FileEtaStateStore((closed as FileEtaStateStore).dir),
});
etaStateStoreContract(t, 'memory store', async () => new MemoryEtaStateStore(), {});
