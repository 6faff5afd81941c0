// taxiway ops dashboard: checks the token, subscribes on /v1/ops/ws (live-job snapshot, job and fleet frames) and wires map, table, KPIs and driver detail.
import { mpDecode, mpEncode } from '/dashboard/msgpack.js';
import { MapView, boundaryRings } from '/dashboard/map.js';
import { FINAL, LiveJobs, STATES, STUCK_MS, fmtDuration, renderTable, setStuckFrom } from '/dashboard/jobs.js';
import { KpiPoller, kpiRows } from '/dashboard/kpis.js';
import { fetchTrail, renderDetail } from '/dashboard/driver-detail.js';

const $ = (id) => document.getElementById(id);
const hash = new URLSearchParams(location.hash.slice(1));
let token = hash.get('token');
let city = hash.get('city') || '';
setStuckFrom(hash.get('stuck'));

const map = new MapView($('map'));
const jobs = new LiveJobs();
let cities = []; // [{name, boundary}] from /dashboard/cities.json
let drivers = new Map(); // id -> [id, lat, lng, status] from the newest fleet frame
let driverCounts = {};
let lastKpis = null;
let selectedDriver = null;
let trail = null, trailError = null;
let ws = null, retryMs = 1000, expiryTimer = null;
let redrawQueued = false;

function setConn(text, cls) {
  $('conn').textContent = text;
  $('conn').className = cls || '';
}

// --- token ---------------------------------------------------------------------------------------

function tokenClaims(t) {
  try {
    return JSON.parse(atob(t.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
  } catch {
    return null;
  }
}

/** Show the token problem over the page; `msg` says what the server (or the token itself) said. */
function authProblem(title, msg) {
  $('auth-title').textContent = title;
  $('auth-msg').textContent = msg;
  $('auth').hidden = false;
  setConn('not connected: ' + title.toLowerCase(), 'down');
  if (ws) { ws.onclose = null; ws.close(); ws = null; }
}

/** Ask the server whether the token is good before opening the socket: a refused upgrade only shows as 1006. */
async function checkToken() {
  const r = await fetch('/v1/jobs?state=live&limit=1', { headers: { authorization: 'Bearer ' + token } });
  if (r.ok) return true;
  const body = await r.json().catch(() => null);
  const said = body && body.error ? body.error.message : 'HTTP ' + r.status;
  if (r.status === 401) {
    const expired = /expired/.test(said);
    authProblem(expired ? 'Your ops token has expired' : 'Your ops token was refused', `The server said: “${said}”.`);
  } else if (r.status === 403) {
    const c = tokenClaims(token);
    authProblem('This token is not an ops token', `The server said: “${said}”${c && c.role ? ` (its role is ${c.role})` : ''}.`);
  } else {
    setConn(`server answered ${r.status}; retrying`, 'down');
    return null;
  }
  return false;
}

function watchExpiry() {
  clearTimeout(expiryTimer);
  const c = tokenClaims(token);
  if (!c || typeof c.exp !== 'number') { $('token-exp').textContent = ''; return; }
  const left = c.exp * 1000 - Date.now();
  $('token-exp').textContent = `token ${c.sub || ''} valid until ${new Date(c.exp * 1000).toLocaleTimeString([], { hour12: false })}`;
  // Sockets outlive their token; the page says so when it runs out, so nobody trusts a frozen view.
  if (left > 0) expiryTimer = setTimeout(() => authProblem('Your ops token has expired', `It expired at ${new Date(c.exp * 1000).toLocaleString()}; the view below stopped updating.`), Math.min(left, 2 ** 31 - 1));
}

$('auth-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const t = $('auth-input').value.trim();
  if (!t) return;
  token = t;
  hash.set('token', t);
  history.replaceState(null, '', '#' + hash.toString());
  $('auth').hidden = true;
  start();
});

// --- socket --------------------------------------------------------------------------------------

function subscribe() {
  jobs.reset();
  ws.send(mpEncode(city ? { t: 'sub', city, id: 1 } : { t: 'sub', id: 1 }));
}

function connect() {
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  ws = new WebSocket(`${proto}://${location.host}/v1/ops/ws?token=${encodeURIComponent(token)}`);
  ws.binaryType = 'arraybuffer';
  let opened = false;
  ws.onopen = () => {
    opened = true;
    retryMs = 1000;
    setConn('live', 'live');
    subscribe();
  };
  ws.onmessage = (ev) => {
    if (typeof ev.data === 'string') return;
    let f;
    try { f = mpDecode(ev.data); } catch (e) { console.warn('bad frame', e); return; }
    if (f.t === 'fleet') {
      drivers = new Map((f.drivers || []).map((d) => [d[0], d]));
      driverCounts = {};
      for (const d of drivers.values()) driverCounts[d[3]] = (driverCounts[d[3]] || 0) + 1;
      redraw();
    } else if (f.t === 'jobs') { jobs.onSnapshot(f); redraw(); }
    else if (f.t === 'job') { jobs.onFrame(f); redraw(); }
    else if (f.t === 'err') setConn(`error: ${f.code} ${f.msg}`, 'down');
  };
  ws.onclose = async (ev) => {
    ws = null;
    // An upgrade refused for the token never opens: ask the server why before retrying.
    if (!opened && (await checkToken()) === false) return;
    setConn(`disconnected (${ev.code}); retrying in ${Math.round(retryMs / 1000)} s`, 'down');
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 30000);
  };
}

// --- rendering -----------------------------------------------------------------------------------

function redraw() {
  if (redrawQueued) return;
  redrawQueued = true;
  requestAnimationFrame(() => {
    redrawQueued = false;
    render();
  });
}

function render() {
  const now = Date.now();
  const live = [...jobs.live.values()].map(({ f }) => {
    const d = f.driver && drivers.get(f.driver.id);
    return { job: f.job, state: f.state, pickup: f.pickup, dropoff: f.dropoff, driverPos: d ? { lat: d[1], lng: d[2] } : f.driver && f.driver.lat !== undefined ? f.driver : null };
  });
  map.drivers = [...drivers.values()];
  map.jobs = live;
  map.selectedDriver = selectedDriver;
  map.trail = trail;
  map.draw();
  $('attribution').hidden = !map.roads;

  const c = jobs.counts();
  $('counts').replaceChildren(...[...STATES, ...FINAL].map((s) => {
    const d = document.createElement('div');
    if (FINAL.has(s)) { d.className = 'final'; d.title = s + ' since this page opened'; } else d.title = 'live jobs ' + s.replace('_', ' ');
    const b = document.createElement('b');
    b.textContent = c[s] || 0;
    b.dataset.state = s;
    const small = document.createElement('small');
    small.textContent = s.replace('_', ' ');
    d.append(b, small);
    return d;
  }));
  fillOptions($('f-product'), jobs.values('product'), 'every product');
  fillOptions($('f-city'), [...new Set([...cities.map((x) => x.name), ...jobs.values('city')])].sort(), 'every city');
  const filter = { state: $('f-state').value, product: $('f-product').value, city: $('f-city').value };
  const { shown, stuck } = renderTable($('jobs').tBodies[0], jobs, filter, now, map.selectedJob, pickJob);
  $('table-note').textContent = `${shown} of ${jobs.live.size} live jobs shown · ${stuck} stuck (in state longer than: ` +
    Object.entries(STUCK_MS).map(([s, ms]) => `${s.replace('_', ' ')} ${fmtDuration(ms)}`).join(', ') + ')' +
    (jobs.more ? ' · the server holds more live jobs than its snapshot carried: see GET /v1/jobs?state=live' : '');
  renderKpis();
  if (selectedDriver) {
    const job = [...jobs.live.values()].map((x) => x.f).find((f) => f.driver && f.driver.id === selectedDriver);
    renderDetail($('detail'), selectedDriver, drivers.get(selectedDriver), job, trail, trailError);
  }
}

function renderKpis() {
  const k = lastKpis || { windowS: null, fixesPerS: null, offerMeanMs: null, offerP95Ms: null, acceptance: null, unfulfilledRate: null, offers: 0, ended: 0, offersSince: 'start', endedSince: 'start' };
  $('kpis').replaceChildren(...kpiRows(k, driverCounts).map(([label, value, title]) => {
    const d = document.createElement('div');
    d.title = title;
    const b = document.createElement('b');
    b.textContent = value;
    b.dataset.kpi = label;
    const small = document.createElement('small');
    small.textContent = label;
    d.append(b, small);
    return d;
  }));
}

function fillOptions(sel, values, anyLabel) {
  const want = ['', ...values];
  if ([...sel.options].map((o) => o.value).join('\n') === want.join('\n')) return;
  const keep = sel.value;
  sel.replaceChildren(...want.map((v) => new Option(v || anyLabel, v)));
  sel.value = want.includes(keep) ? keep : '';
}

// --- selection -----------------------------------------------------------------------------------

function pickJob(f) {
  map.selectedJob = map.selectedJob === f.job ? null : f.job;
  if (f.driver && f.driver.id) pickDriver(f.driver.id);
  else redraw();
}

async function pickDriver(id) {
  selectedDriver = id;
  trail = null;
  trailError = null;
  redraw();
  if (!id) { $('detail').hidden = true; return; }
  try {
    const pts = await fetchTrail(id, token);
    if (selectedDriver === id) trail = pts;
  } catch (e) {
    if (selectedDriver === id) trailError = e.message;
  }
  redraw();
}

map.addPickListener((id) => pickDriver(id));
$('zoom-in').onclick = () => { const c = map.canvas; map.zoomAt(1.5, c.clientWidth / 2, c.clientHeight / 2); };
$('zoom-out').onclick = () => { const c = map.canvas; map.zoomAt(1 / 1.5, c.clientWidth / 2, c.clientHeight / 2); };
$('zoom-fit').onclick = () => map.fit();
for (const id of ['f-state', 'f-product', 'f-city']) $(id).addEventListener('change', redraw);
$('city').addEventListener('change', () => {
  city = $('city').value;
  hash.set('city', city);
  if (!city) hash.delete('city');
  history.replaceState(null, '', '#' + hash.toString());
  applyCity();
  if (ws && ws.readyState === WebSocket.OPEN) subscribe();
});
window.addEventListener('resize', redraw);
setInterval(redraw, 1000); // time in state ticks

function applyCity() {
  map.boundaries = cities.filter((c) => !city || c.name === city).map((c) => ({ name: c.name, rings: boundaryRings(c.boundary) }));
  $('f-city').value = '';
  map.fit();
}

/** For tests and for people at the console: where a driver was drawn (canvas pixels), or null. */
window.taxiwayDashboard = { driverScreenPos: (id) => map.screen.get(id) || null, selectDriver: pickDriver };

// --- start ---------------------------------------------------------------------------------------

for (const s of STATES) $('f-state').append(new Option(s.replace('_', ' '), s));
fetch('/dashboard/roads.json').then((r) => (r.ok ? r.json() : null)).then((j) => { if (Array.isArray(j)) { map.roads = j; redraw(); } }).catch(() => {});
fetch('/dashboard/cities.json').then((r) => (r.ok ? r.json() : null)).then((j) => {
  cities = (j && j.cities) || [];
  for (const c of cities) $('city').append(new Option(c.name, c.name));
  if (city && !cities.some((c) => c.name === city)) city = '';
  $('city').value = city;
  applyCity();
}).catch(() => {});
new KpiPoller((k) => { lastKpis = k; redraw(); }).start();

async function start() {
  if (!token) {
    authProblem('This dashboard needs an ops token', 'Open it as /dashboard#token=<ops token>, or paste one below.');
    return;
  }
  watchExpiry();
  const ok = await checkToken().catch(() => null);
  if (ok === false) return;
  connect();
}
start();
