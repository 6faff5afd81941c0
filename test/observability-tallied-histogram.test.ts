// TalliedHistogram must expose exactly what prom-client's own Histogram exposes for the same observations.
import t from 'tap';
import { Histogram, Registry } from 'prom-client';
import { TalliedHistogram } from '../src/observability/tallied-histogram.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];

t.test('same text and JSON as a prom-client Histogram fed the same values', async (t) => {
  const rA = new Registry();
  const rB = new Registry();
  const ours = new TalliedHistogram<'route' | 'status'>({ name: 'h_seconds', help: 'h', labelNames: ['route', 'status'], buckets: BUCKETS, registers: [rA] });
  const ref = new Histogram<'route' | 'status'>({ name: 'h_seconds', help: 'h', labelNames: ['route', 'status'], buckets: BUCKETS, registers: [rB] });
  const values = [0, 0.0005, 0.001, 0.002, 0.01, 0.05, 0.5, 1, 3, 1e6];
  for (const [route, status] of [['/a', '2xx'], ['/b', '4xx']] as const) {
    const s = ours.series({ route, status });
    t.equal(ours.series({ status, route }), s, 'equal label sets share a series');
    for (const v of values) {
      ours.observeIn(s, v);
      ref.observe({ route, status }, v);
    }
  }
  t.equal(await rA.metrics(), await rB.metrics());
  // JSON: the same lines (prom-client adds `exemplar: null` and drops `aggregator`; neither is exposed).
  const lines = async (r: Registry): Promise<unknown> => (await r.getMetricsAsJSON())[0]!.values.map((v) => [(v as { metricName?: string }).metricName, v.labels, v.value]);
  t.same(await lines(rA), await lines(rB));
  ours.reset();
  t.match(await rA.metrics(), /h_seconds_count\{route="\/a",status="2xx"\} 0\n/);
});
