// Runs the storage contract against the in-memory adapter.
import t from 'tap';
import { MemoryStorage } from '../src/storage/memory-storage.js';
import { storageContract } from './contract/storage-contract.js';

storageContract(t, 'MemoryStorage', async () => ({ storage: new MemoryStorage() }), { durable: false });
