// Runs the storage contract against CassandraStorage on a real node, plus Cassandra-specific checks.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import t from 'tap';
import { DAY_MS } from '../src/storage/cassandra/cassandra-buckets.js';
import { decodeChunk } from '../src/storage/chunk-codec.js';
import { openCassandraStorage, type CassandraStorage, type CassandraTuning } from '../src/storage/cassandra/cassandra-storage.js';
import type { StoredFix } from '../src/storage/ports.js';
import { storageContract } from './contract/storage-contract.js';
import { testCassandra, testSettings, withClient } from './helpers/cassandra.js';

const KEYSPACE = 'taxiway_test_contract';
const T0 = 1_700_000_000_000;
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-cass-'));
t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
let n = 0;

const cluster = await testCassandra();
if (typeof cluster === 'string') {
  t.test('CassandraStorage', { skip: cluster }, async () => {});
} else {
  const settings = await testSettings(cluster, KEYSPACE, path.join(base, 'unused'));
  const open = (spoolDir: string, tuning: Partial<CassandraTuning> = {}, registry?: Registry): Promise<CassandraStorage> =>
    openCassandraStorage({ settings: { ...settings, spoolDir }, tuning, registry });

  storageContract(
    t,
    'CassandraStorage',
    async () => {
      const dir = path.join(base, `spool${n++}`);
      return { storage: await open(dir), reopen: () => open(dir) };
    },
    { durable: true },
  );

  const fix = (driver: string, ts: number, lat = 41.15): StoredFix => ({ driver, ts, lat, lng: -8.61, hdg: NaN, spd: 3, acc: NaN });
  const run = Math.random().toString(36).slice(2, 8);

  t.test('CassandraStorage specifics', async (t) => {
    t.test('chunks: far fewer writes than fixes, one row per (driver, slice) at 1 Hz', async (t) => {
      const registry = new Registry();
      const s = await open(path.join(base, `spool${n++}`), {}, registry);
      t.teardown(() => s.close());
      // 20 drivers x 300 s at 1 Hz, handed over in 20 ms batches as ingest does.
      for (let sec = 0; sec < 300; sec++) s.appendFixes(Array.from({ length: 20 }, (_, d) => fix(`${run}-w${d}`, T0 + sec * 1000)));
      await s.flush();
      const writes = (await registry.getSingleMetric('taxiway_storage_writes_total')!.get()).values;
      const chunks = writes.find((v) => v.labels.op === 'fix_chunk' && v.labels.result === 'ok')?.value ?? 0;
      t.ok(chunks <= 20 * 6, `${chunks} chunk writes for 6000 fixes (one per driver per 60 s slice)`);
      const persisted = (await registry.getSingleMetric('taxiway_fixes_persisted_total')!.get()).values[0]?.value;
      t.equal(persisted, 6000, 'taxiway_fixes_persisted_total');
      t.equal((await s.track(`${run}-w7`, T0, T0 + 300_000, 10_000)).points.length, 300);
    });

    t.test('a fix is queryable within chunkMs without flush()', async (t) => {
      const s = await open(path.join(base, `spool${n++}`), { chunkMs: 300 });
      t.teardown(() => s.close());
      const d = `${run}-live`;
      const now = Date.now();
      s.appendFixes([fix(d, now)]);
      const until = Date.now() + 3000;
      let seen = 0;
      while (Date.now() < until && seen === 0) {
        await new Promise((r) => setTimeout(r, 100));
        seen = (await s.track(d, now - 1, now + 1, 10)).points.length;
      }
      t.equal(seen, 1, `visible after ${Date.now() - now} ms`);
    });

    t.test('tracks across days and open ranges visit only days with data', async (t) => {
      const s = await open(path.join(base, `spool${n++}`));
      t.teardown(() => s.close());
      const d = `${run}-days`;
      const ts = [T0 - 3 * DAY_MS, T0 - DAY_MS + 59_999, T0, T0 + 1, T0 + 40 * DAY_MS];
      s.appendFixes(ts.map((x) => fix(d, x)));
      await s.flush();
      t.same((await s.track(d, -Infinity, Infinity, 100)).points.map((p) => p[0]), ts);
      const p1 = await s.track(d, -Infinity, Infinity, 2);
      t.same([p1.points.map((p) => p[0]), p1.next], [ts.slice(0, 2), ts[2]]);
      t.same((await s.track(d, T0 + 1, Infinity, 100)).points.map((p) => p[0]), ts.slice(3));
    });

    t.test('rewritten fixes leave one value per ts; raw rows hold no copies from retries', async (t) => {
      const s = await open(path.join(base, `spool${n++}`));
      t.teardown(() => s.close());
      const d = `${run}-raw`;
      s.appendFixes([fix(d, T0, 1), fix(d, T0 + 1000, 1)]);
      await s.flush();
      s.appendFixes([fix(d, T0, 2)]); // a later chunk for the same slice wins on read
      await s.flush();
      t.same((await s.track(d, T0, T0 + 2000, 10)).points.map((p) => [p[0] - T0, p[1]]), [[0, 2], [1000, 1]]);
      const raw = await withClient(settings, async (c) => {
        const rs = await c.execute(`SELECT slice, fixes FROM ${KEYSPACE}.fix_chunks WHERE driver = ? AND day = ?`, [d, Math.floor(T0 / DAY_MS)], { prepare: true });
        let count = 0;
        for (const r of rs.rows) decodeChunk(Number(r.get('slice')), r.get('fixes') as Buffer, () => count++);
        return { rows: rs.rowLength, count };
      });
      t.same(raw, { rows: 2, count: 3 }, 'two chunks: the first with 2 fixes, the rewrite with 1');
    });

    t.test('invalid fixes are dropped and counted, never thrown', async (t) => {
      const registry = new Registry();
      const s = await open(path.join(base, `spool${n++}`), {}, registry);
      t.teardown(() => s.close());
      const d = `${run}-bad`;
      s.appendFixes([fix('', T0), fix(d, NaN), fix(d, T0 + 0.5), { ...fix(d, T0), lat: NaN }, fix(d, 9e15), fix(d, T0 + 1)]);
      await s.flush();
      t.same((await s.track(d, T0 - 10, T0 + 10, 10)).points.map((p) => p[0]), [T0 + 1]);
      const dropped = (await registry.getSingleMetric('taxiway_storage_dropped_total')!.get()).values;
      t.equal(dropped.find((v) => v.labels.reason === 'invalid')?.value, 5);
    });

    t.test('after close: appendFixes drops, reads and job events reject', async (t) => {
      const s = await open(path.join(base, `spool${n++}`));
      await s.close();
      t.doesNotThrow(() => s.appendFixes([fix('d', T0)]));
      await t.rejects(s.track('d', T0, T0 + 1, 1));
      await t.rejects(s.appendJobEvent({ job: 'j', seq: 1, ts: T0, state: 'dispatching', by: 'system', snapshot: {} as never }));
    });

    t.test('open refuses a keyspace without the tables and names the fix', async (t) => {
      await t.rejects(
        openCassandraStorage({ settings: { ...settings, keyspace: 'taxiway_test_missing', spoolDir: path.join(base, `spool${n++}`) } }),
        /run `npx taxiway migrate`/,
      );
    });
  });
}
