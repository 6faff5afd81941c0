// ZoneQueue contract against the in-memory adapter (embedded mode).
import t from 'tap';
import { MemoryZoneQueue } from '../src/matching/zone-queue.js';
import { zoneQueueContract } from './contract/zone-queue-contract.js';

zoneQueueContract(t, 'memory', async () => new MemoryZoneQueue());
