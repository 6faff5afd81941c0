// CatalogStore contract against the embedded LMDB adapter (a restart reopens the same data dir).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { LmdbCatalogStore } from '../src/storage/lmdb/lmdb-catalog-store.js';
import type { CatalogStore } from '../src/storage/catalog-store.js';
import { catalogStoreContract } from './contract/catalog-store-contract.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-catalog-'));
t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;
const dirs = new Map<CatalogStore, string>();
const open = async (): Promise<CatalogStore> => {
  const dir = path.join(root, `s${n++}`);
  const s = LmdbCatalogStore.open(dir);
  dirs.set(s, dir);
  return s;
};
catalogStoreContract(t, 'lmdb', open, {
  reopen: async (closed, restart) => {
    const dir = dirs.get(closed)!;
    if (restart) await closed.close();
    const s = LmdbCatalogStore.open(dir);
    dirs.set(s, dir);
    return s;
  },
});
