// CI's chaos run: `npm run chaos -- --short` (test/chaos/main.ts) must end with nothing lost, stranded or doubled
// beyond the documented guarantee. Needs redis-server and the two-DC Cassandra (started here, or from CASSANDRA_2DC_CONTACT_POINTS).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { TwoDcCassandra } from './helpers/cassandra-two-dc.js';
import { SentinelSetup } from './helpers/redis-sentinel.js';

const MAIN = fileURLToPath(new URL('./chaos/main.js', import.meta.url));
const skipRedis = SentinelSetup.skip();
// Acquired here (when Cassandra tests were asked for) so a missing Java skips (or fails in CI) with the helper's reason; the run itself acquires it again.
const cass = skipRedis ? skipRedis : await TwoDcCassandra.acquire();
const skip = typeof cass === 'string' ? cass : false;

t.test('chaos --short: node kill, Redis primary kill, Cassandra DC freeze, Redis stall', { skip, timeout: 420_000 }, async (t) => {
  t.teardown(() => (cass as TwoDcCassandra).release());
  const { code, out, err } = await new Promise<{ code: number; out: string; err: string }>((resolve) => {
    const p = spawn(process.execPath, [MAIN, '--short'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    p.stderr.on('data', (d: Buffer) => (err += d));
    p.on('close', (c) => resolve({ code: c ?? 1, out, err }));
  });
  for (const line of out.trim().split('\n')) t.comment(line);
  t.equal(code, 0, `the chaos run passed (exit ${code}): ${err.trim().split('\n').slice(-4).join(' | ')}`);
  t.match(out, /\| Redis network stall/, 'it printed the table with every fault');
});
