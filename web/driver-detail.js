// The dashboard's driver detail: status, position and job from the live frames, recent trail from GET /v1/drivers/:id/track.

/** How far back the trail goes, ms. */
export const TRAIL_MS = 15 * 60_000;

/** The driver's fixes of the last TRAIL_MS (at most 2,000): [[ts, lat, lng, hdg, spd, acc], ...]; throws with the server's message. */
export async function fetchTrail(id, token) {
  const from = Date.now() - TRAIL_MS;
  const r = await fetch(`/v1/drivers/${encodeURIComponent(id)}/track?from=${from}&limit=2000`, { headers: { authorization: 'Bearer ' + token } });
  const body = await r.json().catch(() => null);
  if (!r.ok) throw new Error(body && body.error ? `${r.status} ${body.error.code}: ${body.error.message}` : 'HTTP ' + r.status);
  return body.points || [];
}

const time = (ts) => new Date(ts).toLocaleTimeString([], { hour12: false });

/** Fill the detail panel: `driver` is [id, lat, lng, status] or undefined (left the fleet), `job` its live job frame if any. */
export function renderDetail(el, id, driver, job, trail, trailError) {
  const rows = [
    ['driver', id],
    ['status', driver ? driver[3] : 'not in the live fleet'],
    ['position', driver ? `${driver[1].toFixed(5)}, ${driver[2].toFixed(5)}` : '—'],
    ['job', job ? `${job.job} (${job.state.replace('_', ' ')})` : 'none'],
    ['trail', trailError ? 'unavailable: ' + trailError
      : trail === null ? 'loading…'
      : trail.length === 0 ? 'no stored fixes in the last 15 min'
      : `${trail.length} fixes, ${time(trail[0][0])}–${time(trail[trail.length - 1][0])}`],
  ];
  const dl = document.createElement('dl');
  for (const [k, v] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    dd.dataset.field = k;
    dl.append(dt, dd);
  }
  el.replaceChildren(dl);
  el.hidden = false;
}
