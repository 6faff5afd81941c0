// The dashboard's map: a canvas with zoom and pan, city boundaries, OSM roads, drivers, job lines and a driver's trail (no tiles: works offline).

export const COLORS = { available: '#3ecf6e', busy: '#f39a2b', offline: '#6b737b', pickup: '#5aa9ff', dropoff: '#c58cff', trail: '#ffd84a', boundary: '#3b4a5a' };
/** Pixels within which a click picks a driver. */
const PICK_PX = 10;

/**
 * A map view in an equirectangular projection (good enough at city scale). The view follows the data
 * until the user zooms or pans; `fit()` hands control back to the data.
 */
export class MapView {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.view = null; // {lat, lng, scale}: centre and pixels per degree of latitude
    this.userMoved = false;
    this.roads = null; // [[lng, lat, lng, lat, ...], ...]
    this.boundaries = []; // [{name, rings: [[[lng, lat], ...], ...]}]
    this.drivers = []; // [[id, lat, lng, status], ...]
    this.jobs = []; // [{job, state, pickup, dropoff, driverPos}] live jobs to draw
    this.selectedJob = null;
    this.selectedDriver = null;
    this.trail = null; // [[ts, lat, lng, ...], ...] of the selected driver
    this.screen = new Map(); // driver id -> [x, y] as last drawn (for picking and for tests)
    this.listeners = { pick: [] };
    this.bindInput();
  }

  addPickListener(fn) { this.listeners.pick.push(fn); }

  /** Hand the view back to the data (the "fit" button, or a new city). */
  fit() {
    this.userMoved = false;
    this.view = null;
    this.draw();
  }

  bounds() {
    let lat0 = Infinity, lat1 = -Infinity, lng0 = Infinity, lng1 = -Infinity;
    const add = (lat, lng) => { lat0 = Math.min(lat0, lat); lat1 = Math.max(lat1, lat); lng0 = Math.min(lng0, lng); lng1 = Math.max(lng1, lng); };
    // One city: its boundary. Several: where the drivers and jobs are (cities can be a continent apart),
    // and the boundaries only while there is nothing else to show.
    const addBoundaries = () => { for (const b of this.boundaries) for (const ring of b.rings) for (const [lng, lat] of ring) add(lat, lng); };
    if (this.boundaries.length === 1) addBoundaries();
    if (lat0 === Infinity) {
      for (const d of this.drivers) add(d[1], d[2]);
      for (const j of this.jobs) {
        if (j.pickup) add(j.pickup.lat, j.pickup.lng);
        if (j.dropoff) add(j.dropoff.lat, j.dropoff.lng);
      }
    }
    if (lat0 === Infinity) addBoundaries();
    if (lat0 === Infinity) return null;
    const padLat = Math.max((lat1 - lat0) * 0.06, 0.002), padLng = Math.max((lng1 - lng0) * 0.06, 0.003);
    return { lat0: lat0 - padLat, lat1: lat1 + padLat, lng0: lng0 - padLng, lng1: lng1 + padLng };
  }

  size() {
    const dpr = window.devicePixelRatio || 1;
    const w = this.canvas.clientWidth, h = this.canvas.clientHeight;
    if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(h * dpr)) {
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(h * dpr);
    }
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return { w, h };
  }

  fitView(w, h) {
    const b = this.bounds();
    if (!b) return null;
    const lat = (b.lat0 + b.lat1) / 2, lng = (b.lng0 + b.lng1) / 2;
    const kx = Math.cos((lat * Math.PI) / 180);
    return { lat, lng, scale: Math.min(w / ((b.lng1 - b.lng0) * kx), h / (b.lat1 - b.lat0)) };
  }

  project(w, h) {
    const v = this.view;
    const kx = Math.cos((v.lat * Math.PI) / 180);
    return { X: (lng) => w / 2 + (lng - v.lng) * kx * v.scale, Y: (lat) => h / 2 - (lat - v.lat) * v.scale, kx };
  }

  draw() {
    const { w, h } = this.size();
    const ctx = this.ctx;
    ctx.clearRect(0, 0, w, h);
    if (!this.userMoved) this.view = this.fitView(w, h) || this.view;
    if (!this.view) return;
    const { X, Y } = this.project(w, h);
    const path = (pts) => { ctx.beginPath(); pts.forEach(([lat, lng], i) => (i ? ctx.lineTo(X(lng), Y(lat)) : ctx.moveTo(X(lng), Y(lat)))); ctx.stroke(); };

    ctx.lineWidth = 1.5;
    ctx.strokeStyle = COLORS.boundary;
    for (const b of this.boundaries) for (const ring of b.rings) path(ring.map(([lng, lat]) => [lat, lng]));
    if (this.roads) {
      ctx.lineWidth = 1;
      ctx.strokeStyle = '#2a323b';
      ctx.beginPath();
      for (const line of this.roads) {
        ctx.moveTo(X(line[0]), Y(line[1]));
        for (let i = 2; i < line.length; i += 2) ctx.lineTo(X(line[i]), Y(line[i + 1]));
      }
      ctx.stroke();
    }
    // Each live job: driver → pickup (dashed), pickup → dropoff (solid); the selected one bold.
    for (const j of this.jobs) {
      const sel = j.job === this.selectedJob;
      ctx.lineWidth = sel ? 3 : 1;
      ctx.globalAlpha = sel || !this.selectedJob ? 1 : 0.35;
      if (j.driverPos && j.pickup && j.state !== 'in_progress') {
        ctx.setLineDash([4, 4]);
        ctx.strokeStyle = COLORS.pickup;
        path([[j.driverPos.lat, j.driverPos.lng], [j.pickup.lat, j.pickup.lng]]);
        ctx.setLineDash([]);
      }
      if (j.pickup && j.dropoff) {
        ctx.strokeStyle = COLORS.dropoff;
        path([j.state === 'in_progress' && j.driverPos ? [j.driverPos.lat, j.driverPos.lng] : [j.pickup.lat, j.pickup.lng], [j.dropoff.lat, j.dropoff.lng]]);
      }
      if (j.pickup) { ctx.strokeStyle = COLORS.pickup; ctx.beginPath(); ctx.arc(X(j.pickup.lng), Y(j.pickup.lat), sel ? 8 : 6, 0, 2 * Math.PI); ctx.stroke(); }
      if (j.dropoff) { ctx.fillStyle = COLORS.dropoff; ctx.fillRect(X(j.dropoff.lng) - 3, Y(j.dropoff.lat) - 3, 6, 6); }
    }
    ctx.globalAlpha = 1;
    if (this.trail && this.trail.length > 1) {
      ctx.lineWidth = 2.5;
      ctx.strokeStyle = COLORS.trail;
      path(this.trail.map((p) => [p[1], p[2]]));
    }
    this.screen.clear();
    for (const [id, lat, lng, status] of this.drivers) {
      const x = X(lng), y = Y(lat);
      this.screen.set(id, [x, y]);
      ctx.fillStyle = COLORS[status] || COLORS.offline;
      ctx.beginPath();
      ctx.arc(x, y, id === this.selectedDriver ? 7 : 4.5, 0, 2 * Math.PI);
      ctx.fill();
      if (id === this.selectedDriver) { ctx.lineWidth = 2; ctx.strokeStyle = '#fff'; ctx.stroke(); }
    }
    this.drawScale(h);
  }

  /** A round-numbered scale bar (metres) in the bottom-left corner. */
  drawScale(h) {
    const pxPerM = this.view.scale / 111195;
    const m = [20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000].find((v) => v * pxPerM > 60) || 100000;
    const ctx = this.ctx;
    ctx.strokeStyle = ctx.fillStyle = '#7d8a96';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(12, h - 14); ctx.lineTo(12 + m * pxPerM, h - 14);
    ctx.stroke();
    ctx.fillText(m >= 1000 ? m / 1000 + ' km' : m + ' m', 12, h - 20);
  }

  /** The driver nearest to a canvas point, within PICK_PX; null otherwise. */
  pick(x, y) {
    let best = null, bestD = PICK_PX * PICK_PX;
    for (const [id, [sx, sy]] of this.screen) {
      const d = (sx - x) ** 2 + (sy - y) ** 2;
      if (d <= bestD) { best = id; bestD = d; }
    }
    return best;
  }

  zoomAt(factor, x, y) {
    if (!this.view) return;
    const { w, h } = this.size();
    const { kx } = this.project(w, h);
    const v = this.view;
    // Keep the point under (x, y) where it is.
    const lng = v.lng + (x - w / 2) / (kx * v.scale), lat = v.lat - (y - h / 2) / v.scale;
    v.scale = Math.max(50, Math.min(v.scale * factor, 5e7));
    v.lng = lng - (x - w / 2) / (kx * v.scale);
    v.lat = lat + (y - h / 2) / v.scale;
    this.userMoved = true;
    this.draw();
  }

  bindInput() {
    const c = this.canvas;
    let drag = null;
    c.addEventListener('wheel', (e) => {
      e.preventDefault();
      this.zoomAt(e.deltaY < 0 ? 1.25 : 0.8, e.offsetX, e.offsetY);
    }, { passive: false });
    c.addEventListener('pointerdown', (e) => { drag = { x: e.offsetX, y: e.offsetY, moved: false }; });
    c.addEventListener('pointermove', (e) => {
      if (!drag || !this.view) return;
      const dx = e.offsetX - drag.x, dy = e.offsetY - drag.y;
      if (!drag.moved && dx * dx + dy * dy < 9) return;
      drag.moved = true;
      const { w, h } = this.size();
      const { kx } = this.project(w, h);
      this.view.lng -= dx / (kx * this.view.scale);
      this.view.lat += dy / this.view.scale;
      drag.x = e.offsetX; drag.y = e.offsetY;
      this.userMoved = true;
      this.draw();
    });
    c.addEventListener('pointerup', (e) => {
      const wasDrag = drag && drag.moved;
      drag = null;
      if (wasDrag) return;
      const id = this.pick(e.offsetX, e.offsetY);
      for (const fn of this.listeners.pick) fn(id);
    });
  }
}

/** GeoJSON Polygon/MultiPolygon → rings of [lng, lat]. */
export function boundaryRings(geo) {
  if (!geo) return [];
  if (geo.type === 'Polygon') return geo.coordinates;
  if (geo.type === 'MultiPolygon') return geo.coordinates.flat();
  return [];
}
