// taxiway ops dashboard: msgpack over /v1/ops/ws, fleet drawn on a canvas, job feed in the side panel.
'use strict';

// --- msgpack (standard types only: the protocol uses no extensions) ------------------------------

const utf8 = new TextDecoder();
const utf8enc = new TextEncoder();
const TWO32 = 4294967296;

/** Decode one msgpack value from an ArrayBuffer. uint64/int64 become Numbers (ms timestamps fit). */
function mpDecode(buf) {
  const u8 = new Uint8Array(buf);
  const dv = new DataView(buf);
  let p = 0;
  const str = (n) => { const s = utf8.decode(u8.subarray(p, p + n)); p += n; return s; };
  const bin = (n) => { const b = u8.slice(p, p + n); p += n; return b; };
  const arr = (n) => { const a = new Array(n); for (let i = 0; i < n; i++) a[i] = read(); return a; };
  const map = (n) => {
    const o = {};
    for (let i = 0; i < n; i++) {
      const k = read();
      const v = read();
      if (k !== '__proto__') o[k] = v; // never let a frame touch Object.prototype
    }
    return o;
  };
  const u = (size) => { const v = size === 1 ? dv.getUint8(p) : size === 2 ? dv.getUint16(p) : dv.getUint32(p); p += size; return v; };
  function read() {
    if (p >= u8.length) throw new Error('msgpack: truncated');
    const b = u8[p++];
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b <= 0x8f) return map(b & 0x0f);
    if (b <= 0x9f) return arr(b & 0x0f);
    if (b <= 0xbf) return str(b & 0x1f);
    let v;
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return bin(u(1));
      case 0xc5: return bin(u(2));
      case 0xc6: return bin(u(4));
      case 0xca: v = dv.getFloat32(p); p += 4; return v;
      case 0xcb: v = dv.getFloat64(p); p += 8; return v;
      case 0xcc: return u(1);
      case 0xcd: return u(2);
      case 0xce: return u(4);
      case 0xcf: v = dv.getUint32(p) * TWO32 + dv.getUint32(p + 4); p += 8; return v;
      case 0xd0: v = dv.getInt8(p); p += 1; return v;
      case 0xd1: v = dv.getInt16(p); p += 2; return v;
      case 0xd2: v = dv.getInt32(p); p += 4; return v;
      case 0xd3: v = dv.getInt32(p) * TWO32 + dv.getUint32(p + 4); p += 8; return v;
      case 0xd9: return str(u(1));
      case 0xda: return str(u(2));
      case 0xdb: return str(u(4));
      case 0xdc: return arr(u(2));
      case 0xdd: return arr(u(4));
      case 0xde: return map(u(2));
      case 0xdf: return map(u(4));
      default: throw new Error('msgpack: unsupported type 0x' + b.toString(16));
    }
  }
  return read();
}

/** Encode maps, arrays, strings, integers (to 64 bits), floats, booleans and nil. */
function mpEncode(value) {
  const out = [];
  const be = (n, bytes) => { for (let i = bytes - 1; i >= 0; i--) out.push((n / 2 ** (8 * i)) & 0xff); };
  const int64 = (n) => { const hi = Math.floor(n / TWO32); be(hi >>> 0, 4); be((n - hi * TWO32) >>> 0, 4); };
  function head(len, fix, fixMax, c16, c32) {
    if (len <= fixMax) out.push(fix | len);
    else if (len < 0x10000) { out.push(c16); be(len, 2); } else { out.push(c32); be(len, 4); }
  }
  function enc(v) {
    if (v === null || v === undefined) out.push(0xc0);
    else if (typeof v === 'boolean') out.push(v ? 0xc3 : 0xc2);
    else if (typeof v === 'number') {
      if (Number.isSafeInteger(v)) {
        if (v >= 0) {
          if (v < 0x80) out.push(v);
          else if (v < 0x100) out.push(0xcc, v);
          else if (v < 0x10000) { out.push(0xcd); be(v, 2); } else if (v < TWO32) { out.push(0xce); be(v, 4); } else { out.push(0xcf); int64(v); }
        } else if (v >= -32) out.push(v & 0xff);
        else if (v >= -128) out.push(0xd0, v & 0xff);
        else if (v >= -32768) { out.push(0xd1); be(v & 0xffff, 2); } else if (v >= -2147483648) { out.push(0xd2); be(v >>> 0, 4); } else { out.push(0xd3); int64(v); }
      } else {
        const b = new Uint8Array(8);
        new DataView(b.buffer).setFloat64(0, v);
        out.push(0xcb, ...b);
      }
    } else if (typeof v === 'string') {
      const b = utf8enc.encode(v);
      if (b.length < 32) out.push(0xa0 | b.length);
      else if (b.length < 0x100) out.push(0xd9, b.length);
      else if (b.length < 0x10000) { out.push(0xda); be(b.length, 2); } else { out.push(0xdb); be(b.length, 4); }
      for (const x of b) out.push(x);
    } else if (Array.isArray(v)) {
      head(v.length, 0x90, 15, 0xdc, 0xdd);
      v.forEach(enc);
    } else if (typeof v === 'object') {
      const keys = Object.keys(v).filter((k) => v[k] !== undefined);
      head(keys.length, 0x80, 15, 0xde, 0xdf);
      for (const k of keys) { enc(k); enc(v[k]); }
    } else throw new Error('msgpack: cannot encode ' + typeof v);
  }
  enc(value);
  return new Uint8Array(out);
}

// --- state -------------------------------------------------------------------------------------

const COLORS = { available: '#3ecf6e', busy: '#f39a2b', offline: '#6b737b', job: '#5aa9ff' };
const STATES = ['dispatching', 'accepted', 'arrived', 'in_progress', 'completed', 'cancelled', 'unfulfilled'];
const FINAL = new Set(['completed', 'cancelled', 'unfulfilled']);
const MAX_FEED = 60;

let drivers = []; // [[id, lat, lng, status], ...] from the newest fleet frame
const liveJobs = new Map(); // job id → last job frame, while not final
const finals = { completed: 0, cancelled: 0, unfulfilled: 0 };
const seen = new Set(); // job ids already seen, so each job's final state is counted once
let view = null; // {lat0, lat1, lng0, lng1}: eased toward the drivers' bounds so the map never jumps
let roads = null; // [[lng, lat, lng, lat, ...], ...]: the optional road backdrop (/dashboard/roads.json)

const $ = (id) => document.getElementById(id);
const canvas = $('map');
const ctx = canvas.getContext('2d');

// --- map ---------------------------------------------------------------------------------------

function targetBounds() {
  let lat0 = Infinity, lat1 = -Infinity, lng0 = Infinity, lng1 = -Infinity;
  const add = (lat, lng) => { lat0 = Math.min(lat0, lat); lat1 = Math.max(lat1, lat); lng0 = Math.min(lng0, lng); lng1 = Math.max(lng1, lng); };
  for (const d of drivers) add(d[1], d[2]);
  for (const j of liveJobs.values()) if (j.pickup) add(j.pickup.lat, j.pickup.lng);
  if (lat0 === Infinity) return null;
  // At least ~500 m across, plus 8% margin so dots on the edge stay visible.
  const padLat = Math.max((lat1 - lat0) * 0.08, 0.0025);
  const padLng = Math.max((lng1 - lng0) * 0.08, 0.0035);
  return { lat0: lat0 - padLat, lat1: lat1 + padLat, lng0: lng0 - padLng, lng1: lng1 + padLng };
}

function draw() {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const t = targetBounds();
  if (!t) return;
  if (!view) view = t;
  else for (const k of ['lat0', 'lat1', 'lng0', 'lng1']) view[k] += (t[k] - view[k]) * 0.25;
  // Equirectangular projection: good enough at city scale, and keeps streets at the right angles.
  const cLat = (view.lat0 + view.lat1) / 2, cLng = (view.lng0 + view.lng1) / 2;
  const kx = Math.cos((cLat * Math.PI) / 180);
  const scale = Math.min(w / ((view.lng1 - view.lng0) * kx), h / (view.lat1 - view.lat0));
  const X = (lng) => w / 2 + (lng - cLng) * kx * scale;
  const Y = (lat) => h / 2 - (lat - cLat) * scale;

  if (roads) {
    ctx.lineWidth = 1;
    ctx.strokeStyle = '#262d35';
    ctx.beginPath();
    for (const line of roads) {
      ctx.moveTo(X(line[0]), Y(line[1]));
      for (let i = 2; i < line.length; i += 2) ctx.lineTo(X(line[i]), Y(line[i + 1]));
    }
    ctx.stroke();
  }
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = COLORS.job;
  for (const j of liveJobs.values()) {
    if (!j.pickup) continue;
    ctx.beginPath();
    ctx.arc(X(j.pickup.lng), Y(j.pickup.lat), 6, 0, 2 * Math.PI);
    ctx.stroke();
  }
  const n = { available: 0, busy: 0, offline: 0 };
  for (const [, lat, lng, status] of drivers) {
    n[status] = (n[status] || 0) + 1;
    ctx.fillStyle = COLORS[status] || COLORS.offline;
    ctx.beginPath();
    ctx.arc(X(lng), Y(lat), 4, 0, 2 * Math.PI);
    ctx.fill();
  }
  for (const k of Object.keys(n)) { const el = $('n-' + k); if (el) el.textContent = n[k]; }
  drawScale(w, h, scale);
}

/** A round-numbered scale bar (metres) in the bottom-left corner. */
function drawScale(w, h, pxPerDegLat) {
  const pxPerM = pxPerDegLat / 111195;
  let m = [50, 100, 200, 500, 1000, 2000, 5000, 10000].find((v) => v * pxPerM > 60) || 10000;
  const px = m * pxPerM;
  ctx.strokeStyle = ctx.fillStyle = '#7d8a96';
  ctx.beginPath();
  ctx.moveTo(12, h - 14); ctx.lineTo(12 + px, h - 14);
  ctx.stroke();
  ctx.fillText(m >= 1000 ? m / 1000 + ' km' : m + ' m', 12, h - 20);
}

// --- side panel --------------------------------------------------------------------------------

function onJob(f) {
  if (FINAL.has(f.state)) {
    if (liveJobs.delete(f.job) || !seen.has(f.job)) finals[f.state]++;
  } else liveJobs.set(f.job, f);
  seen.add(f.job);
  const li = document.createElement('li');
  const time = document.createElement('time');
  time.textContent = new Date(f.ts || Date.now()).toLocaleTimeString([], { hour12: false });
  const st = document.createElement('span');
  st.className = 'st ' + f.state;
  st.textContent = f.state.replace('_', ' ');
  const who = document.createElement('span');
  who.className = 'who';
  const driver = f.driver && f.driver.id ? ' → ' + f.driver.id : '';
  who.textContent = (f.rider || '?') + driver;
  who.title = f.job;
  li.append(time, st, who);
  const list = $('jobs');
  list.prepend(li);
  while (list.children.length > MAX_FEED) list.lastChild.remove();
  renderCounts();
}
function renderCounts() {
  const c = {};
  for (const j of liveJobs.values()) c[j.state] = (c[j.state] || 0) + 1;
  Object.assign(c, finals);
  $('counts').replaceChildren(...STATES.map((s) => {
    const d = document.createElement('div');
    const b = document.createElement('b');
    b.textContent = c[s] || 0;
    const small = document.createElement('small');
    small.textContent = s.replace('_', ' ');
    d.append(b, small);
    return d;
  }));
}

// --- socket ------------------------------------------------------------------------------------

const token = new URLSearchParams(location.hash.slice(1)).get('token');
let retryMs = 1000;

function setConn(text, cls) {
  const el = $('conn');
  el.textContent = text;
  el.className = cls || '';
}

function connect() {
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${proto}://${location.host}/v1/ops/ws?token=${encodeURIComponent(token)}`);
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => {
    retryMs = 1000;
    setConn('live', 'live');
    ws.send(mpEncode({ t: 'sub', id: 1 }));
  };
  ws.onmessage = (ev) => {
    if (typeof ev.data === 'string') return;
    let f;
    try {
      f = mpDecode(ev.data);
    } catch (e) {
      console.warn('bad frame', e);
      return;
    }
    if (f.t === 'fleet') {
      drivers = Array.isArray(f.drivers) ? f.drivers : [];
      requestAnimationFrame(draw);
    } else if (f.t === 'job') onJob(f);
    else if (f.t === 'err') setConn(`error: ${f.code} ${f.msg}`, 'down');
  };
  ws.onclose = (ev) => {
    // A refused upgrade (bad or expired token) shows up as 1006 before open; keep retrying, slower.
    setConn(`disconnected (${ev.code}); retrying in ${Math.round(retryMs / 1000)} s`, 'down');
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 30000);
  };
}

window.addEventListener('resize', () => requestAnimationFrame(draw));
renderCounts();
// The server offers a road backdrop when it has one (the demo does): flat [lng, lat, ...] lines.
fetch('/dashboard/roads.json').then((r) => (r.ok ? r.json() : null)).then((j) => {
  if (Array.isArray(j)) roads = j;
}).catch(() => {});
if (token) connect();
else {
  setConn('no token', 'down');
  $('help').hidden = false;
}
