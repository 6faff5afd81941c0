// The dashboard's live jobs: merges the `jobs` snapshot with `job` frames (newest `ts` wins) and renders the filterable table.

export const STATES = ['dispatching', 'accepted', 'arrived', 'in_progress'];
export const FINAL = new Set(['completed', 'cancelled', 'unfulfilled']);
/**
 * A job is highlighted as stuck when it has been in its state longer than this, ms: no offer taken for
 * 1 min, no arrival 10 min after accepting, no start 5 min after arriving, a trip over 60 min.
 */
export const STUCK_MS = { dispatching: 60_000, accepted: 600_000, arrived: 300_000, in_progress: 3_600_000 };

/** Override thresholds from the page address: `#stuck=dispatching:30,accepted:300` (seconds). */
export function setStuckFrom(spec) {
  for (const part of (spec || '').split(',')) {
    const [state, s] = part.split(':');
    if (state in STUCK_MS && Number(s) > 0) STUCK_MS[state] = Number(s) * 1000;
  }
}
/** Finished jobs remembered so a late snapshot entry cannot revive them (bounded). */
const MAX_FINALS = 5000;

export function fmtDuration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + String(s % 60).padStart(2, '0') + ' s';
  return Math.floor(s / 3600) + ' h ' + String(Math.floor((s % 3600) / 60)).padStart(2, '0') + ' min';
}

export class LiveJobs {
  constructor() {
    this.live = new Map(); // job id -> {f: the newest frame or snapshot entry, entered: ms the job entered its state}
    this.finalTs = new Map(); // job id -> ts of its final frame
    this.finals = { completed: 0, cancelled: 0, unfulfilled: 0 }; // seen since the page opened
    this.more = false;
  }

  /** A new `sub`: forget the old scope's jobs (the snapshot refills them). */
  reset() {
    this.live.clear();
    this.more = false;
  }

  /** A `job` frame. */
  onFrame(f) {
    const old = this.live.get(f.job);
    if (old && old.f.ts > f.ts) return;
    if (FINAL.has(f.state)) {
      if (!this.finalTs.has(f.job)) this.finals[f.state] = (this.finals[f.state] || 0) + 1;
      this.finalTs.set(f.job, f.ts);
      if (this.finalTs.size > MAX_FINALS) this.finalTs.delete(this.finalTs.keys().next().value);
      this.live.delete(f.job);
      return;
    }
    this.put(f, old);
  }

  /** A `jobs` snapshot: entries older than what frames already said are ignored. */
  onSnapshot(s) {
    this.more = !!s.more;
    for (const e of s.jobs || []) {
      const old = this.live.get(e.job);
      if (old && old.f.ts >= e.ts) continue;
      const fin = this.finalTs.get(e.job);
      if (fin !== undefined && fin >= e.ts) continue;
      this.put(e, old);
    }
  }

  put(f, old) {
    // Time in state: a dispatching job has been so since it was created; otherwise since the frame
    // that moved it to this state (an ETA update in the same state keeps the earlier time).
    const entered = old && old.f.state === f.state ? old.entered : f.state === 'dispatching' ? f.created_ts || f.ts : f.ts;
    this.live.set(f.job, { f, entered });
  }

  counts() {
    const c = { ...this.finals };
    for (const { f } of this.live.values()) c[f.state] = (c[f.state] || 0) + 1;
    return c;
  }

  /** Values seen in the live jobs for one field (filter options). */
  values(field) {
    const s = new Set();
    for (const { f } of this.live.values()) if (f[field]) s.add(f[field]);
    return [...s].sort();
  }
}

const td = (text, cls) => {
  const el = document.createElement('td');
  el.textContent = text;
  if (cls) el.className = cls;
  return el;
};

/**
 * Render the rows passing the filters ({state, product, city}: '' for any), oldest in state first, so
 * stuck jobs are at the top. Returns the number of stuck jobs shown.
 */
export function renderTable(tbody, jobs, filter, now, selectedJob, onPick) {
  const rows = [];
  let stuck = 0;
  for (const { f, entered } of jobs.live.values()) {
    if (filter.state && f.state !== filter.state) continue;
    if (filter.product && f.product !== filter.product) continue;
    if (filter.city && f.city !== filter.city) continue;
    rows.push({ f, inState: now - entered });
  }
  rows.sort((a, b) => b.inState - a.inState);
  tbody.replaceChildren(...rows.map(({ f, inState }) => {
    const tr = document.createElement('tr');
    tr.dataset.job = f.job;
    const isStuck = inState > (STUCK_MS[f.state] ?? Infinity);
    if (isStuck) { tr.classList.add('stuck'); stuck++; }
    if (f.job === selectedJob) tr.classList.add('selected');
    const st = td(f.state.replace('_', ' '), 'st ' + f.state);
    tr.append(td(f.job.slice(0, 10), 'mono'), st, td(f.product || ''), td(f.city || ''), td(f.rider || ''),
      td(f.driver && f.driver.id ? f.driver.id : '—', 'drv'), td(fmtDuration(inState), 'num'));
    tr.title = `${f.job}${isStuck ? ' — stuck: longer than ' + fmtDuration(STUCK_MS[f.state]) + ' ' + f.state.replace('_', ' ') : ''}`;
    tr.addEventListener('click', () => onPick(f));
    return tr;
  }));
  return { shown: rows.length, stuck };
}
