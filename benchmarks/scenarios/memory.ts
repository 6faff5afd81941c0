// Memory scenario: bytes of live state per driver with N drivers in one process (fleet, then fleet + ingest).
import { forkChild } from '../lib/procs.js';
import { log, round } from '../lib/util.js';

export interface MemoryResult { n: number; fleetBytesPerDriver: number; ingestBytesPerDriver: number; totalBytesPerDriver: number; rssMb: number; heapUsedMb: number }

export async function runMemory(n: number): Promise<MemoryResult> {
  log(`memory: ${n} drivers`);
  const c = forkChild('memory-child.js', { args: [String(n)], execArgv: ['--expose-gc', '--max-old-space-size=8192'] });
  const r = await c.wait<MemoryResult & { ev: string }>('memory', 600_000);
  await c.waitExit(10_000);
  const { ev: _ev, ...res } = r;
  log(`  fleet ${round(res.fleetBytesPerDriver)} B/driver, + ingest state ${round(res.ingestBytesPerDriver)} B/driver = ${round(res.totalBytesPerDriver)} B/driver; RSS ${round(res.rssMb)} MB for ${n}`);
  return res;
}
