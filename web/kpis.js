// The dashboard's KPIs from /metrics (the node the page is served by): fixes/s, offer latency, acceptance and unfulfilled rates over the last minute.

/** Samples of /metrics kept for the rates, ms. */
const WINDOW_MS = 60_000;

/** Parse the Prometheus text lines we need: name{labels} value → {key: value}. */
export function parseMetrics(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    if (!line.startsWith('taxiway_fixes_accepted_total') && !line.startsWith('taxiway_jobs_total') && !line.startsWith('taxiway_dispatch_offer_latency_seconds')) continue;
    const sp = line.lastIndexOf(' ');
    const key = keepLabels(line.slice(0, sp));
    out.set(key, (out.get(key) || 0) + Number(line.slice(sp + 1)));
  }
  return out;
}

/** The KPIs read only `state` and `le`: other labels (e.g. the offer latency's `policy`) are summed over. */
function keepLabels(series) {
  const b = series.indexOf('{');
  if (b < 0) return series;
  const kept = series.slice(b + 1, -1).split(/,(?=[a-z_]+=")/).filter((l) => l.startsWith('state=') || l.startsWith('le='));
  return kept.length ? `${series.slice(0, b)}{${kept.join(',')}}` : series.slice(0, b);
}

const get = (m, k) => m.get(k) || 0;

/** Offer-latency buckets as [[le seconds, cumulative count], ...], +Inf last. */
function buckets(m) {
  const out = [];
  for (const [k, v] of m) {
    const g = /^taxiway_dispatch_offer_latency_seconds_bucket\{le="([^"]+)"\}$/.exec(k);
    if (g) out.push([g[1] === '+Inf' ? Infinity : Number(g[1]), v]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

/** KPIs between two samples; `a === b` means since the node started. Rates are null when nothing happened. */
function between(a, b) {
  const d = (k) => get(b.m, k) - (a === b ? 0 : get(a.m, k));
  const offers = d('taxiway_dispatch_offer_latency_seconds_count');
  const accepted = d('taxiway_jobs_total{state="accepted"}');
  const unfulfilled = d('taxiway_jobs_total{state="unfulfilled"}');
  const ended = unfulfilled + d('taxiway_jobs_total{state="completed"}') + d('taxiway_jobs_total{state="cancelled"}');
  // p95 from the histogram's bucket deltas: the first bucket bound holding 95% of the offers.
  let p95 = null;
  if (offers > 0) {
    const nb = buckets(b.m), ob = a === b ? [] : buckets(a.m);
    for (let i = 0; i < nb.length; i++) {
      if (nb[i][1] - (ob[i] ? ob[i][1] : 0) >= 0.95 * offers) { p95 = nb[i][0]; break; }
    }
  }
  return {
    windowS: a === b ? null : (b.at - a.at) / 1000,
    fixesPerS: a === b ? null : d('taxiway_fixes_accepted_total') / ((b.at - a.at) / 1000),
    offerMeanMs: offers > 0 ? (d('taxiway_dispatch_offer_latency_seconds_sum') / offers) * 1000 : null,
    offerP95Ms: p95 === null ? null : p95 * 1000,
    acceptance: offers > 0 ? accepted / offers : null,
    unfulfilledRate: ended > 0 ? unfulfilled / ended : null,
    offers,
    ended,
  };
}

/**
 * KPIs over the window from sample `a` to sample `b`. The offer and job figures fall back to the totals
 * since the node started while the window holds no offer (or no ended job): a quiet minute still shows
 * the latest known rate, and says so (`offersSince`, `endedSince`: 'window' or 'start').
 */
export function kpis(a, b) {
  const w = between(a, b);
  const all = between(b, b);
  const out = { ...w, offersSince: 'window', endedSince: 'window' };
  if (w.offers === 0 || a === b) Object.assign(out, { offerMeanMs: all.offerMeanMs, offerP95Ms: all.offerP95Ms, acceptance: all.acceptance, offers: all.offers, offersSince: 'start' });
  if (w.ended === 0 || a === b) Object.assign(out, { unfulfilledRate: all.unfulfilledRate, ended: all.ended, endedSince: 'start' });
  return out;
}

export class KpiPoller {
  constructor(onKpis, intervalMs = 5000) {
    this.samples = [];
    this.onKpis = onKpis;
    this.intervalMs = intervalMs;
  }

  start() {
    const tick = async () => {
      try {
        const r = await fetch('/metrics', { cache: 'no-store' });
        if (r.ok) {
          const now = Date.now();
          this.samples.push({ at: now, m: parseMetrics(await r.text()) });
          while (this.samples.length > 2 && now - this.samples[1].at >= WINDOW_MS) this.samples.shift();
          this.onKpis(kpis(this.samples[0], this.samples[this.samples.length - 1]));
        }
      } catch { /* the socket status line reports a node that is down */ }
      setTimeout(tick, this.intervalMs);
    };
    tick();
  }
}

const pct = (v) => (v === null ? '—' : (v * 100).toFixed(v < 0.1 ? 1 : 0) + ' %');
const ms = (v) => (v === null ? '—' : v < 10 ? v.toFixed(1) + ' ms' : Math.round(v) + ' ms');

/** [label, value, title] rows for the KPI panel. */
export function kpiRows(k, driverCounts) {
  const span = k.windowS === null ? 'since the node started' : `over the last ${Math.round(k.windowS)} s`;
  const spanOf = (since) => (since === 'start' ? 'since the node started (none in the last minute)' : span);
  return [
    ['available', String(driverCounts.available || 0), 'drivers available (fleet frames)'],
    ['busy', String(driverCounts.busy || 0), 'drivers busy (fleet frames)'],
    ['offline', String(driverCounts.offline || 0), 'drivers offline but still in the live fleet (fleet frames)'],
    ['fixes/s', k.fixesPerS === null ? '—' : k.fixesPerS.toFixed(1), 'fixes accepted per second on this node, ' + span],
    ['offer latency', ms(k.offerMeanMs) + (k.offerP95Ms === null ? '' : ' · p95 ≤ ' + ms(k.offerP95Ms)), 'request (or previous offer end) to offer, mean and p95 bucket, ' + spanOf(k.offersSince)],
    ['acceptance', pct(k.acceptance), `jobs accepted / offers sent (${k.offers}), ` + spanOf(k.offersSince)],
    ['unfulfilled', pct(k.unfulfilledRate), `jobs unfulfilled / jobs ended (${k.ended}), ` + spanOf(k.endedSince)],
  ];
}
