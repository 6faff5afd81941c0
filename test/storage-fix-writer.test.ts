// FixWriter retry and flush behaviour, driven by a fake sink that fails commits on demand.
import t from 'tap';
import { FixWriter, type FixKey, type FixSink } from '../src/storage/lmdb/lmdb-fix-writer.js';
import type { FixValue } from '../src/storage/fix-codec.js';
import type { StoredFix } from '../src/storage/ports.js';

/** Mimics lmdb-js: puts in one event turn share one commit promise, settled on the next macrotask. */
class FakeSink implements FixSink {
  readonly rows = new Map<string, FixValue>();
  failNext = 0;
  private turn: { promise: Promise<boolean>; puts: Array<[FixKey, FixValue]> } | undefined;

  put(key: FixKey, value: FixValue): Promise<boolean> {
    if (!this.turn) {
      const puts: Array<[FixKey, FixValue]> = [];
      const promise = new Promise<boolean>((resolve, reject) =>
        setImmediate(() => {
          this.turn = undefined;
          if (this.failNext > 0) {
            this.failNext--;
            reject(new Error('disk full'));
            return;
          }
          for (const [k, v] of puts) this.rows.set(k.join('|'), v);
          resolve(true);
        }),
      );
      this.turn = { promise, puts };
    }
    this.turn.puts.push([key, value]);
    return this.turn.promise;
  }
}

const fix = (ts: number): StoredFix => ({ driver: 'd', ts, lat: 1, lng: 2, hdg: NaN, spd: 3, acc: NaN });
const quiet = { warn() {}, error() {} };

t.test('a failed commit is retried by settle()', async (t) => {
  const sink = new FakeSink();
  const w = new FixWriter(sink, quiet, { retryDelayMs: 60_000 });
  sink.failNext = 1;
  w.write([fix(1), fix(2)]);
  w.write([fix(3)]);
  await w.settle();
  t.same([...sink.rows.keys()], ['d|1', 'd|2', 'd|3']);
  t.same(sink.rows.get('d|1'), [1, 2, null, 3, null]);
  t.same(w.stats(), { retryQueued: 0, dropped: 0 });
});

t.test('a failed commit is retried by the timer', async (t) => {
  const sink = new FakeSink();
  const w = new FixWriter(sink, quiet, { retryDelayMs: 5 });
  sink.failNext = 1;
  w.write([fix(1)]);
  await new Promise((r) => setTimeout(r, 50));
  t.same([...sink.rows.keys()], ['d|1']);
});

t.test('settle() rejects while fixes stay uncommitted; the buffer is bounded', async (t) => {
  const sink = new FakeSink();
  const w = new FixWriter(sink, quiet, { retryDelayMs: 60_000, maxRetryFixes: 2 });
  sink.failNext = 2;
  w.write([fix(1), fix(2), fix(3)]);
  await t.rejects(w.settle(), /2 fixes not committed/);
  t.same(w.stats(), { retryQueued: 2, dropped: 1 });
  await w.settle();
  t.same([...sink.rows.keys()], ['d|2', 'd|3']);
  w.stop();
  w.write([fix(4)]);
  t.equal(w.stats().dropped, 2);
});
