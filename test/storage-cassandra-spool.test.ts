// The spool and the write pipeline without a cluster: outages, slow sinks, restarts with a backlog, torn records.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { ChunkItem, WriteItem } from '../src/storage/cassandra/cassandra-items.js';
import { CassandraMetrics } from '../src/storage/cassandra/cassandra-metrics.js';
import { WritePipeline, type ItemSink, type PipelineOptions } from '../src/storage/cassandra/cassandra-pipeline.js';
import { Spool } from '../src/storage/spool.js';
import { listSegments, segmentPath } from '../src/storage/spool-file.js';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-spool-'));
t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
let n = 0;
const dir = (): string => path.join(base, `s${n++}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const OPTS: PipelineOptions = { concurrency: 4, maxQueueFixes: 10_000, maxQueueEvents: 1000, retryMinMs: 10, retryMaxMs: 50 };

/** A Cassandra stand-in: records every write; can be down (rejects) or slow (delays), ms. */
class FakeSink implements ItemSink {
  down = false;
  delayMs = 0;
  readonly written: string[] = [];
  async write(it: WriteItem): Promise<void> {
    if (this.delayMs) await sleep(this.delayMs);
    if (this.down) throw new Error('NoHostAvailable (fake)');
    this.written.push(it.kind === 'chunk' ? it.id : `${it.job}#${it.seq}`);
  }
}

const chunk = (i: number): ChunkItem => ({ kind: 'chunk', driver: `d${i % 7}`, day: 1, slice: 60_000 * i, id: `c${i}`, n: 3, blob: Buffer.from([1, 0, 0]) });

t.test('spool: append, read, commit, reset; reopen resumes at the cursor', async (t) => {
  const d = dir();
  const s = await Spool.open(d, { segmentBytes: 200 });
  let durable = 0;
  for (let i = 0; i < 20; i++) {
    t.ok(s.append(Buffer.from(`rec-${i}`), () => durable++));
    if (i % 4 === 3) await s.sync(); // segments roll between group commits
  }
  await s.sync();
  t.equal(durable, 20, 'every append reported durable after sync');
  t.ok(listSegments(d).length > 1, 'rolled into several segments');
  const first = await s.read(5);
  t.same(first.map((r) => r.payload.toString()), ['rec-0', 'rec-1', 'rec-2', 'rec-3', 'rec-4']);
  await s.commit(first.at(-1)!.pos);
  const more = await s.read(3);
  t.same(more.map((r) => r.payload.toString()), ['rec-5', 'rec-6', 'rec-7']);
  await s.close(); // read but not committed: read again after reopen

  const s2 = await Spool.open(d, { segmentBytes: 200 });
  const rest = await s2.read(100);
  t.same(rest.map((r) => r.payload.toString()), Array.from({ length: 15 }, (_, i) => `rec-${i + 5}`));
  t.notOk(s2.isEmpty);
  await s2.commit(rest.at(-1)!.pos);
  t.ok(s2.isEmpty);
  t.equal(s2.pendingBytes, 0);
  await s2.reset();
  t.equal(listSegments(d).length, 0, 'reset removes every segment');
  s2.append(Buffer.from('after-reset'));
  await s2.sync();
  t.same((await s2.read(10)).map((r) => r.payload.toString()), ['after-reset']);
  await s2.close();
});

t.test('spool: a torn last record (crash mid-append) is cut at open; one process per dir', async (t) => {
  const d = dir();
  const s = await Spool.open(d);
  await t.rejects(Spool.open(d), /already open/);
  s.append(Buffer.from('whole-1'));
  s.append(Buffer.from('whole-2'));
  await s.close();
  const seg = segmentPath(d, listSegments(d)[0]!);
  fs.appendFileSync(seg, Buffer.from([40, 0, 0, 0, 1, 2, 3, 4, 5])); // a header promising 40 bytes, then nothing
  const s2 = await Spool.open(d);
  t.same((await s2.read(10)).map((r) => r.payload.toString()), ['whole-1', 'whole-2']);
  s2.append(Buffer.from('whole-3'));
  await s2.sync();
  t.same((await s2.read(10)).map((r) => r.payload.toString()), ['whole-3'], 'appends continue after the cut');
  await s2.close();
});

t.test('pipeline: an outage spools, flush still resolves, recovery replays everything and returns to direct', async (t) => {
  const sink = new FakeSink();
  const spool = await Spool.open(dir());
  const metrics = new CassandraMetrics();
  const p = new WritePipeline(sink, spool, metrics, { warn() {}, error() {} }, OPTS);
  for (let i = 0; i < 50; i++) p.submit(chunk(i));
  await p.flush();
  t.equal(p.mode, 'direct');
  sink.down = true;
  for (let i = 50; i < 550; i++) p.submit(chunk(i));
  const ev = new Promise<void>((resolve, reject) => p.submit({ kind: 'event', job: 'j1', seq: 1, ts: 1, state: 'requested', by: 'rider', snapshot: '{}', rider: 'r', driver: null, createdTs: 1 }, (e) => (e ? reject(e) : resolve())));
  await p.flush();
  await ev;
  t.equal(p.mode, 'spooling', 'spooling while down');
  t.ok(spool.pendingBytes > 0, `spool holds ${spool.pendingBytes} bytes`);
  await sleep(100); // replay attempts fail meanwhile
  sink.down = false;
  t.ok(await p.drain(5000), 'drained after recovery');
  t.equal(p.mode, 'direct');
  const unique = new Set(sink.written);
  t.equal(unique.size, 551, 'every chunk and the event written');
  t.ok(spool.isEmpty);
  t.equal((await metrics.spooled.get()).values.find((v) => v.labels.kind === 'fixes')?.value, 1500, 'spooled fixes counted');
  await p.stop();
  await spool.close();
});

t.test('pipeline: a slow cluster fills the queue, the rest goes to the spool, nothing is lost', async (t) => {
  const sink = new FakeSink();
  sink.delayMs = 30;
  const spool = await Spool.open(dir());
  const p = new WritePipeline(sink, spool, new CassandraMetrics(), { warn() {}, error() {} }, { ...OPTS, maxQueueFixes: 60 });
  for (let i = 0; i < 200; i++) p.submit(chunk(i));
  t.equal(p.mode, 'spooling', 'queue bound reached');
  t.ok(p.memory.fixes <= 60, `memory bound kept: ${p.memory.fixes} fixes`);
  sink.delayMs = 0;
  t.ok(await p.drain(5000));
  t.equal(new Set(sink.written).size, 200);
  await p.stop();
  await spool.close();
});

t.test('pipeline: stop during an outage leaves a backlog that the next start replays', async (t) => {
  const d = dir();
  const sink = new FakeSink();
  sink.down = true;
  const spool = await Spool.open(d);
  const p = new WritePipeline(sink, spool, new CassandraMetrics(), { warn() {}, error() {} }, OPTS);
  for (let i = 0; i < 100; i++) p.submit(chunk(i));
  await p.flush();
  t.notOk(await p.drain(100), 'cannot drain while down');
  await p.stop();
  await spool.close();

  const sink2 = new FakeSink();
  const spool2 = await Spool.open(d);
  t.notOk(spool2.isEmpty, 'backlog on disk');
  const p2 = new WritePipeline(sink2, spool2, new CassandraMetrics(), { warn() {}, error() {} }, OPTS);
  p2.resumeBacklog();
  p2.submit(chunk(1000)); // new writes queue behind the backlog
  t.ok(await p2.drain(5000));
  // Spool order is submission order, except writes that were in flight when the outage began: they
  // failed later and were appended behind the queue (harmless: every write is an idempotent upsert).
  t.same([...sink2.written.slice(0, 100)].sort(), Array.from({ length: 100 }, (_, i) => `c${i}`).sort(), 'the backlog, each once');
  t.same(sink2.written.slice(0, 96), Array.from({ length: 96 }, (_, i) => `c${i + 4}`), 'queued writes kept their order');
  t.equal(sink2.written.at(-1), 'c1000', 'then the new write');
  await p2.stop();
  await spool2.close();
});
