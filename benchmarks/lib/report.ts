// Results file (benchmarks/results/latest.json), SVG bar charts and the generated part of BENCHMARKS.md.
import fs from 'node:fs';
import path from 'node:path';

export interface Metric { value: number | null; unit: string; target?: string; met?: boolean | null; note?: string }

export interface Results {
  machine: { cpu: string; cores: number; ram_gb: number; os: string; load_avg: number[] };
  node: string;
  commit: string;
  mode: string;
  started: string;
  finished: string;
  metrics: Record<string, Metric>;
  runs: Record<string, { command: string; result: unknown }>;
  notes: string[];
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export interface Bar { label: string; value: number | null; colour?: string; note?: string }

/** A horizontal bar chart; `log` uses a log10 axis (for values spanning orders of magnitude). */
export function barChart(title: string, unit: string, bars: Bar[], o: { log?: boolean; lowerIsBetter?: boolean; target?: number; targetLabel?: string } = {}): string {
  const W = 760;
  const left = 190;
  const right = 150;
  const rowH = 30;
  const top = 44;
  const H = top + bars.length * rowH + 34;
  const vals = bars.map((b) => b.value ?? 0).filter((v) => v > 0);
  if (o.target) vals.push(o.target);
  const max = Math.max(...vals, 1e-9);
  const min = Math.min(...vals, max);
  const span = W - left - right;
  const lo = o.log ? Math.floor(Math.log10(min)) : 0;
  const hi = o.log ? Math.ceil(Math.log10(max)) + (Math.log10(max) % 1 === 0 ? 0 : 0) : max;
  const x = (v: number): number => (o.log ? ((Math.log10(Math.max(v, 10 ** lo)) - lo) / Math.max(1e-9, hi - lo)) * span : (v / (hi as number)) * span);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="Helvetica,Arial,sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<text x="12" y="38" font-size="11" fill="#555">${esc(unit)}${o.log ? ' (log scale)' : ''}${o.lowerIsBetter ? ' — lower is better' : ' — higher is better'}</text>`,
  ];
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    const v = b.value;
    out.push(`<text x="${left - 8}" y="${y + 19}" text-anchor="end">${esc(b.label)}</text>`);
    if (v === null || !Number.isFinite(v)) {
      out.push(`<text x="${left + 4}" y="${y + 19}" fill="#999">not measured${b.note ? ' (' + esc(b.note) + ')' : ''}</text>`);
      return;
    }
    const w = Math.max(1, x(v));
    out.push(`<rect x="${left}" y="${y + 5}" width="${w.toFixed(1)}" height="${rowH - 10}" fill="${b.colour ?? '#e8a33d'}" rx="2"/>`);
    out.push(`<text x="${left + w + 6}" y="${y + 19}">${esc(fmt(v))}${b.note ? ' ' + esc(b.note) : ''}</text>`);
  });
  if (o.target) {
    const tx = left + x(o.target);
    out.push(`<line x1="${tx}" y1="${top - 2}" x2="${tx}" y2="${top + bars.length * rowH}" stroke="#c00" stroke-dasharray="4,3"/>`);
    out.push(`<text x="${tx}" y="${top + bars.length * rowH + 16}" fill="#c00" font-size="11" text-anchor="middle">${esc(o.targetLabel ?? 'target ' + fmt(o.target))}</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

export function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a >= 1e6) return (v / 1e6).toFixed(a >= 1e7 ? 1 : 2) + 'M';
  if (a >= 1e4) return Math.round(v / 1000) + 'k';
  if (a >= 100) return String(Math.round(v));
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

const TAXIWAY = '#e8a33d';
const PEER = '#5b8bd6';

/** Write the charts next to the results and return their paths relative to the repository root. */
export function writeCharts(res: Results, dir: string, root: string): Record<string, string> {
  fs.mkdirSync(dir, { recursive: true });
  const m = (k: string): number | null => res.metrics[k]?.value ?? null;
  const charts: Record<string, string> = {
    'chart-ingest.svg': barChart('Ingest: driver fixes accepted per second', 'fixes/s, same machine, same load generator', [
      { label: 'taxiway (loc frames)', value: m('ingest_fixes_per_s'), colour: TAXIWAY },
      { label: 'taxiway (locs × 10)', value: m('ingest_batched_fixes_per_s'), colour: TAXIWAY },
      { label: 'naive ws+Map+GEOADD', value: m('ingest_naive_fixes_per_s'), colour: PEER },
      { label: 'ceiling: uWS+decode only', value: m('ingest_floor_fixes_per_s'), colour: PEER },
    ], { target: 600_000, targetLabel: 'target 600k/s' }),
    'chart-nearest.svg': barChart('Nearest 10 of 100,000 drivers within 5 km', 'µs per query, in-process (Redis: one round trip each)', [
      { label: 'taxiway CityFleet', value: m('nearest10_us'), colour: TAXIWAY },
      { label: 'geokdbush around', value: m('nearest10_geokdbush_us'), colour: PEER },
      { label: 'Redis GEOSEARCH', value: m('nearest10_redis_us'), colour: PEER },
    ], { log: true, lowerIsBetter: true, target: 2, targetLabel: 'target 2 µs' }),
    'chart-http.svg': barChart('HTTP under autocannon', 'requests/s (autocannon on the same 2 cores)', [
      { label: 'taxiway nearby', value: m('http_nearby_rps'), colour: TAXIWAY },
      { label: 'fastify nearby', value: m('http_nearby_fastify_rps'), colour: PEER },
      { label: 'taxiway healthz', value: m('http_healthz_rps'), colour: TAXIWAY },
      { label: 'fastify healthz', value: m('http_healthz_fastify_rps'), colour: PEER },
      { label: 'taxiway eta', value: m('http_eta_rps'), colour: TAXIWAY },
      { label: 'taxiway POST jobs', value: m('http_jobs_rps'), colour: TAXIWAY },
    ]),
    'chart-latency.svg': barChart('Latency p99', 'milliseconds', [
      { label: 'dispatch request→offer', value: m('dispatch_p99_ms'), colour: TAXIWAY, note: '(target 10)' },
      { label: 'fan-out fix→rider pos', value: m('fanout_p99_ms'), colour: TAXIWAY, note: '(target 25)' },
      { label: 'ingest fix→visible', value: m('ingest_visible_p99_ms'), colour: TAXIWAY },
    ], { lowerIsBetter: true }),
  };
  const out: Record<string, string> = {};
  for (const [name, svg] of Object.entries(charts)) {
    const p = path.join(dir, name);
    fs.writeFileSync(p, svg);
    out[name] = path.relative(root, p);
  }
  return out;
}

const BEGIN = '<!-- bench:results:begin (generated by npm run bench; edit outside these markers) -->';
const END = '<!-- bench:results:end -->';

/** Replace the generated section of BENCHMARKS.md (or append it) with tables from `res`. */
export function updateBenchmarksMd(file: string, res: Results, charts: Record<string, string>): void {
  const m = res.metrics;
  /** A target row; `part` rows break down the row above and carry no target or status of their own. */
  const row = (k: string, label: string, part = false): string => {
    const x = m[k];
    if (!x) return `| ${label} | — | | |`;
    const met = part ? '' : x.met === true ? '✅ met' : x.met === false ? '❌ missed' : '';
    const note = x.note ? (met ? ' — ' : '') + x.note : '';
    return `| ${label} | ${fmt(x.value)} ${x.unit} | ${part ? '(part of the row above)' : x.target ?? ''} | ${met}${note} |`;
  };
  const lines: string[] = [
    BEGIN,
    '',
    `Run: \`${res.mode}\` on ${res.machine.cpu}, ${res.machine.cores} cores, ${res.machine.ram_gb} GiB (load average at start ${res.machine.load_avg.join(' / ')}), ` +
      `Node ${res.node}, commit \`${res.commit.slice(0, 12)}\`, ${res.started} → ${res.finished}. Raw numbers: \`benchmarks/results/latest.json\`.`,
    '',
    '### Targets',
    '',
    '| metric | measured | target | status |',
    '|---|---|---|---|',
    row('ingest_fixes_per_s', 'Ingest, embedded, every fix validated and stored'),
    row('ingest_vs_naive', 'Ingest vs naive stack'),
    row('nearest10_us', 'Nearest 10 of 100k within 5 km'),
    row('nearest10_vs_redis', 'Nearest vs Redis GEOSEARCH'),
    row('nearest10_vs_geokdbush', 'Nearest vs geokdbush around'),
    row('http_nearby_vs_fastify', 'GET nearby vs fastify'),
    row('dispatch_p99_ms', 'Dispatch p99 request→offer, 200 jobs/s, 50k drivers'),
    row('fanout_p99_ms', 'Fan-out p99 fix→rider pos, 10k trips'),
    row('live_state_bytes_per_driver', 'Live state per driver: fleet + fix rules'),
    row('fleet_bytes_per_driver', 'of which the fleet registry', true),
    row('rss_1m_drivers_mb', 'RSS with 1,000,000 drivers'),
    '',
    '### Peers side by side',
    '',
    '| what | taxiway | peer | peer value | ratio |',
    '|---|---|---|---|---|',
    `| ingest fixes/s | ${fmt(m.ingest_fixes_per_s?.value)} | naive: ws + msgpack + Map + GEOADD per fix | ${fmt(m.ingest_naive_fixes_per_s?.value)} | ${fmt(m.ingest_vs_naive?.value)}× |`,
    `| ingest fixes/s | ${fmt(m.ingest_fixes_per_s?.value)} | ceiling: uWS + loc decode + typed arrays, nothing stored | ${fmt(m.ingest_floor_fixes_per_s?.value)} | ${fmt(m.ingest_vs_floor?.value)}× |`,
    `| nearest-10 µs/query | ${fmt(m.nearest10_us?.value)} | Redis 7 GEOSEARCH (round trip) | ${fmt(m.nearest10_redis_us?.value)} | ${fmt(m.nearest10_vs_redis?.value)}× |`,
    `| nearest-10 µs/query | ${fmt(m.nearest10_us?.value)} | geokdbush around (same kdbush) | ${fmt(m.nearest10_geokdbush_us?.value)} | ${fmt(m.nearest10_vs_geokdbush?.value)}× |`,
    `| GET nearby req/s | ${fmt(m.http_nearby_rps?.value)} | fastify 5, same index | ${fmt(m.http_nearby_fastify_rps?.value)} | ${fmt(m.http_nearby_vs_fastify?.value)}× |`,
    `| GET healthz req/s | ${fmt(m.http_healthz_rps?.value)} | fastify 5 | ${fmt(m.http_healthz_fastify_rps?.value)} | ${fmt(ratio(m.http_healthz_rps?.value, m.http_healthz_fastify_rps?.value))}× |`,
    '',
    '### All metrics',
    '',
    '| metric | value | unit | note |',
    '|---|---|---|---|',
    ...Object.entries(m).map(([k, v]) => `| \`${k}\` | ${fmt(v.value)} | ${v.unit} | ${v.note ?? ''} |`),
    '',
    '### Charts',
    '',
    ...Object.values(charts).map((p) => `![${path.basename(p, '.svg')}](${p})`),
    '',
    '### Commands',
    '',
    ...Object.entries(res.runs).map(([k, r]) => `- ${k}: \`${r.command}\``),
    '',
    ...(res.notes.length ? ['### Notes from this run', '', ...res.notes.map((n) => `- ${n}`), ''] : []),
    END,
  ];
  const block = lines.join('\n');
  let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# taxiway benchmarks\n\n';
  const a = text.indexOf(BEGIN.slice(0, 30));
  const b = text.indexOf(END);
  if (a >= 0 && b > a) text = text.slice(0, a) + block + text.slice(b + END.length);
  else text = text.trimEnd() + '\n\n## Latest results\n\n' + block + '\n';
  fs.writeFileSync(file, text);
}

export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return a / b;
}
