// History of suite results by commit: one JSON line per `npm run bench` in benchmarks/results/history.jsonl,
// and an SVG of the headline metrics over it (chart-history.svg), so a regression shows run over run.
import fs from 'node:fs';
import type { Results } from './report.js';

/** One line of history.jsonl: when, which commit, how loaded the machine was, and every metric's value. */
export interface HistoryEntry {
  commit: string;
  started: string;
  mode: string;
  loadAvg: number[];
  metrics: Record<string, number | null>;
}

/** The headline metrics charted, with their target (drawn dashed) and whether lower is better. */
export const HEADLINES: Array<{ key: string; fallback?: string; title: string; unit: string; target?: number; lower?: boolean }> = [
  { key: 'ingest_fixes_per_s', title: 'ingest flat out', unit: 'fixes/s', target: 600_000 },
  { key: 'ingest_visible_p99_ms', title: 'fix→visible p99 (worst run)', unit: 'ms', target: 25, lower: true },
  { key: 'dispatch_p99_max_ms', fallback: 'dispatch_p99_ms', title: 'dispatch p99 (worst run)', unit: 'ms', target: 10, lower: true },
  { key: 'fanout_p99_ms', title: 'fan-out p99', unit: 'ms', target: 25, lower: true },
  { key: 'nearest10_us', title: 'nearest 10', unit: 'µs', target: 2, lower: true },
  { key: 'live_state_bytes_per_driver', title: 'live state per driver', unit: 'B', target: 300, lower: true },
  { key: 'health_p99_under_load_ms', title: 'health p99 under load', unit: 'ms', target: 100, lower: true },
  { key: 'http_nearby_mixed_p99_ms', title: 'nearby p99, mixed load', unit: 'ms', target: 5, lower: true },
];

export function historyEntry(res: Results): HistoryEntry {
  return {
    commit: res.commit, started: res.started, mode: res.mode, loadAvg: res.machine.load_avg,
    metrics: Object.fromEntries(Object.entries(res.metrics).map(([k, m]) => [k, m.value])),
  };
}

/** Append one suite run (a re-run of the same commit and start time replaces nothing: lines are only added). */
export function appendHistory(file: string, res: Results): void {
  fs.appendFileSync(file, JSON.stringify(historyEntry(res)) + '\n');
}

export function readHistory(file: string): HistoryEntry[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as HistoryEntry);
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const fmt = (v: number): string => (Math.abs(v) >= 10_000 ? `${Math.round(v / 1000)}k` : Math.abs(v) >= 100 ? String(Math.round(v)) : String(Math.round(v * 100) / 100));

/** Small multiples: one panel per headline metric, x = suite runs in order (labelled by commit), y from 0. */
export function historySvg(entries: HistoryEntry[]): string {
  const cols = 4, pw = 250, ph = 150, pad = 36, top = 40;
  const rows = Math.ceil(HEADLINES.length / cols);
  const W = cols * pw, H = top + rows * ph + 10;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="Helvetica,Arial,sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">Suite results by commit (benchmarks/results/history.jsonl, ${entries.length} runs); dashed: target</text>`];
  HEADLINES.forEach((h, i) => {
    const x0 = (i % cols) * pw + pad, y0 = top + Math.floor(i / cols) * ph + 18;
    const w = pw - pad - 14, hh = ph - 50;
    const vals = entries.map((e) => e.metrics[h.key] ?? (h.fallback ? e.metrics[h.fallback] : null) ?? null);
    const max = Math.max(h.target ?? 0, ...vals.filter((v): v is number => v !== null)) * 1.1 || 1;
    const X = (k: number): number => x0 + (entries.length <= 1 ? w / 2 : (k * w) / (entries.length - 1));
    const Y = (v: number): number => y0 + hh - (v / max) * hh;
    parts.push(`<text x="${x0}" y="${y0 - 6}" font-weight="bold">${esc(h.title)} (${esc(h.unit)}${h.lower ? ', lower is better' : ''})</text>`);
    parts.push(`<line x1="${x0}" y1="${y0 + hh}" x2="${x0 + w}" y2="${y0 + hh}" stroke="#999"/><line x1="${x0}" y1="${y0}" x2="${x0}" y2="${y0 + hh}" stroke="#999"/>`);
    parts.push(`<text x="${x0 - 4}" y="${y0 + 4}" text-anchor="end">${fmt(max)}</text><text x="${x0 - 4}" y="${y0 + hh}" text-anchor="end">0</text>`);
    if (h.target !== undefined) parts.push(`<line x1="${x0}" y1="${Y(h.target)}" x2="${x0 + w}" y2="${Y(h.target)}" stroke="#c33" stroke-dasharray="4 3"/>`);
    const pts = vals.map((v, k) => (v === null ? null : `${X(k).toFixed(1)},${Y(v).toFixed(1)}`)).filter(Boolean);
    if (pts.length > 1) parts.push(`<polyline fill="none" stroke="#2266aa" stroke-width="2" points="${pts.join(' ')}"/>`);
    vals.forEach((v, k) => {
      if (v === null) return;
      const met = h.target === undefined ? true : h.lower ? v <= h.target : v >= h.target;
      parts.push(`<circle cx="${X(k).toFixed(1)}" cy="${Y(v).toFixed(1)}" r="3.5" fill="${met ? '#2266aa' : '#c33'}"><title>${esc(entries[k]!.commit.slice(0, 7))} ${esc(entries[k]!.started)}: ${v}</title></circle>`);
    });
    const last = vals.at(-1);
    if (last !== null && last !== undefined) parts.push(`<text x="${x0 + w}" y="${y0 + hh + 24}" text-anchor="end">last ${fmt(last)}</text>`);
    entries.forEach((e, k) => {
      if (entries.length <= 6 || k === 0 || k === entries.length - 1) parts.push(`<text x="${X(k).toFixed(1)}" y="${y0 + hh + 12}" text-anchor="middle" fill="#555">${esc(e.commit.slice(0, 7))}</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

export function writeHistoryChart(historyFile: string, svgFile: string): void {
  fs.writeFileSync(svgFile, historySvg(readHistory(historyFile)));
}
