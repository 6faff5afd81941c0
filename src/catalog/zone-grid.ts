// A city's zone grid, classified at build: each cell is outside every zone, wholly inside its preferred zone, or a boundary cell with its few candidates.

/** What the grid needs of a zone: its box (degrees) and rings as flat [lng, lat, ...] degrees (first: outer, others: holes). */
export interface GridZone {
  minLng: number;
  minLat: number;
  maxLng: number;
  maxLat: number;
  rings: readonly Float64Array[];
}

/** Most cells per side (4 bytes a cell: at most 4 MiB a city). */
export const GRID_MAX_CELLS = 1024;
/** Smallest cell side, degrees (~5 m): a city with a few small zones gets a small grid, not 1M tiny cells. */
export const GRID_MIN_CELL_DEG = 5e-5;
/**
 * How far (in cells) an edge's footprint is widened when it is drawn: a point within float error of an
 * edge must land in a boundary cell whichever of two neighbouring cells its coordinates round into.
 */
const EDGE_SLACK = 1e-3;

/**
 * A uniform grid over a city's zones' extent. `cells[y * nx + x]` packs a value and a radius, `v << 8 | r`.
 * Value `v` (`cells[c] >> 8`): 0 = no zone holds any point of the cell; v > 0 = zone v - 1 (an index into
 * the build's zone list, which is in preference order) holds every point of it and no preferred zone
 * touches it; v < 0 = boundary cell -v - 1, whose candidates are `items[starts[b]]` up to
 * `items[starts[b + 1]]`, in preference order (the first that holds a point is its zone; the last may be
 * a zone holding the whole cell). Radius `r` (`cells[c] & 255`, at most 255): every cell within Chebyshev
 * distance r - 1 of this one has its value (0 for a boundary cell): a driver settled at (x0, y0) has the
 * same answer anywhere in |x - x0| < r, |y - y0| < r (ZoneWatch needs no lookup until it leaves that
 * square). Most fixes are answered by one read of one array.
 */
export interface ZoneGrid {
  /** Unique per build (in this process): a cell number cached with it cannot be read against another grid. */
  id: number;
  /** South-west corner of the grid, degrees. */
  gx: number;
  gy: number;
  /** Cells per degree of longitude and latitude. */
  invLng: number;
  invLat: number;
  nx: number;
  ny: number;
  cells: Int32Array;
  starts: Int32Array;
  items: Int32Array;
}

let builds = 0;

/** Growable Int32 column for the build (no per-pair objects). */
class IntList {
  a = new Int32Array(1024);
  n = 0;
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Int32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
}

/**
 * Build the grid of `zones` (in preference order, non-empty). Cost: O(cells under the zones' boxes +
 * rows × edges) per zone, and one Int32 per cell; a boundary cell lists the zones whose edges cross it
 * (widened by EDGE_SLACK), the cells of a zone no edge crosses are inside or outside it as their
 * centre is (a scan line through the centres, even-odd over all rings).
 */
export function buildZoneGrid(zones: readonly GridZone[]): ZoneGrid {
  let gx = Infinity, gy = Infinity, mx = -Infinity, my = -Infinity;
  for (const z of zones) {
    gx = Math.min(gx, z.minLng);
    gy = Math.min(gy, z.minLat);
    mx = Math.max(mx, z.maxLng);
    my = Math.max(my, z.maxLat);
  }
  const sideX = Math.min(GRID_MAX_CELLS, Math.max(1, Math.ceil((mx - gx) / GRID_MIN_CELL_DEG)));
  const sideY = Math.min(GRID_MAX_CELLS, Math.max(1, Math.ceil((my - gy) / GRID_MIN_CELL_DEG)));
  const invLng = sideX / Math.max(mx - gx, 1e-9), invLat = sideY / Math.max(my - gy, 1e-9);
  // One more cell than the extent holds, so a point on its far edge (which a zone edge may pass) has one.
  const nx = sideX + 1, ny = sideY + 1;
  const NONE = 0x7fffffff;
  const cover = new Int32Array(nx * ny).fill(NONE);
  /** Cells where zone i's edges pass: stamp i + 1 (so each cell is listed once per zone). */
  const stamp = new Int32Array(nx * ny);
  const pairCell = new IntList(), pairZone = new IntList();
  const xs: number[] = [];
  for (let i = 0; i < zones.length; i++) {
    const z = zones[i]!;
    const mark = (x: number, y: number): void => {
      const c = y * nx + x;
      if (stamp[c] === i + 1) return;
      stamp[c] = i + 1;
      pairCell.push(c);
      pairZone.push(i);
    };
    for (const ring of z.rings) drawEdges(ring, gx, gy, invLng, invLat, nx, ny, mark);
    // Cells no edge crosses: inside when their centre is (scan line through the row's centres).
    const y0 = clamp(Math.floor((z.minLat - gy) * invLat), ny), y1 = clamp(Math.floor((z.maxLat - gy) * invLat), ny);
    for (let y = y0; y <= y1; y++) {
      const cy = gy + (y + 0.5) / invLat;
      xs.length = 0;
      for (const ring of z.rings) {
        for (let k = 0, j = ring.length - 2; k < ring.length; j = k, k += 2) {
          const xk = ring[k]!, yk = ring[k + 1]!, xj = ring[j]!, yj = ring[j + 1]!;
          if ((yk > cy) !== (yj > cy)) xs.push(((xj - xk) * (cy - yk)) / (yj - yk) + xk);
        }
      }
      xs.sort((a, b) => a - b);
      for (let k = 0; k + 1 < xs.length; k += 2) {
        const xa = Math.max(0, Math.ceil((xs[k]! - gx) * invLng - 0.5)), xb = Math.min(nx - 1, Math.floor((xs[k + 1]! - gx) * invLng - 0.5));
        for (let x = xa; x <= xb; x++) {
          const c = y * nx + x;
          if (stamp[c] !== i + 1 && cover[c] === NONE) cover[c] = i;
        }
      }
    }
  }
  // Boundary cells: the crossing zones preferred over the cell's cover (a less preferred one never wins there).
  const count = stamp; // reused: the stamps are no longer needed
  count.fill(0);
  for (let p = 0; p < pairCell.n; p++) if (pairZone.a[p]! < cover[pairCell.a[p]!]!) count[pairCell.a[p]!]!++;
  const cells = new Int32Array(nx * ny);
  let boundary = 0, listed = 0;
  for (let c = 0; c < cells.length; c++) {
    if (count[c]! > 0) {
      cells[c] = -(++boundary);
      listed += count[c]! + (cover[c] !== NONE ? 1 : 0);
    } else if (cover[c] !== NONE) cells[c] = cover[c]! + 1;
  }
  const starts = new Int32Array(boundary + 1);
  const items = new Int32Array(listed);
  // Lay out the lists: starts first, then fill in pair order (zones were drawn in preference order).
  let at = 0;
  for (let c = 0; c < cells.length; c++) {
    if (cells[c]! >= 0) continue;
    const b = -cells[c]! - 1;
    starts[b] = at;
    at += count[c]! + (cover[c] !== NONE ? 1 : 0);
  }
  starts[boundary] = at;
  const fill = new Int32Array(boundary);
  for (let p = 0; p < pairCell.n; p++) {
    const c = pairCell.a[p]!, i = pairZone.a[p]!;
    if (i >= cover[c]!) continue;
    const b = -cells[c]! - 1;
    items[starts[b]! + fill[b]!++] = i;
  }
  for (let c = 0; c < cells.length; c++) {
    if (cells[c]! >= 0 || cover[c] === NONE) continue;
    const b = -cells[c]! - 1;
    items[starts[b]! + fill[b]!++] = cover[c]!;
  }
  const r = radii(cells, nx, ny);
  for (let c = 0; c < cells.length; c++) cells[c] = (cells[c]! << 8) | r[c]!;
  return { id: ++builds, gx, gy, invLng, invLat, nx, ny, cells, starts, items };
}

/**
 * Per cell, the radius of ZoneGrid.cells: the Chebyshev distance (capped at 255) to the nearest cell that
 * is a boundary cell or has a neighbour (of 8) of another value, by two chamfer passes (exact for this
 * metric); such a cell gets 1 (only itself) when decided, 0 when a boundary cell. Any cell nearer than that
 * distance has this cell's value: a path of neighbours to one of another value passes such a cell.
 */
function radii(cells: Int32Array, nx: number, ny: number): Uint8Array {
  const d = new Uint8Array(nx * ny);
  for (let y = 0; y < ny; y++) {
    for (let x = 0; x < nx; x++) {
      const c = y * nx + x, v = cells[c]!;
      let edge = v < 0;
      for (let dy = -1; dy <= 1 && !edge; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx, yy = y + dy;
          // Past the grid's side counts as "no zone".
          if ((xx < 0 || yy < 0 || xx >= nx || yy >= ny ? 0 : cells[yy * nx + xx]!) !== v) {
            edge = true;
            break;
          }
        }
      }
      d[c] = edge ? 0 : 255;
    }
  }
  for (let y = 0; y < ny; y++) {
    for (let x = 0; x < nx; x++) {
      const c = y * nx + x;
      let m = d[c]!;
      if (m === 0) continue;
      if (x > 0) m = Math.min(m, d[c - 1]! + 1);
      if (y > 0) {
        m = Math.min(m, d[c - nx]! + 1);
        if (x > 0) m = Math.min(m, d[c - nx - 1]! + 1);
        if (x + 1 < nx) m = Math.min(m, d[c - nx + 1]! + 1);
      }
      d[c] = Math.min(m, 255);
    }
  }
  for (let y = ny - 1; y >= 0; y--) {
    for (let x = nx - 1; x >= 0; x--) {
      const c = y * nx + x;
      let m = d[c]!;
      if (m === 0) continue;
      if (x + 1 < nx) m = Math.min(m, d[c + 1]! + 1);
      if (y + 1 < ny) {
        m = Math.min(m, d[c + nx]! + 1);
        if (x + 1 < nx) m = Math.min(m, d[c + nx + 1]! + 1);
        if (x > 0) m = Math.min(m, d[c + nx - 1]! + 1);
      }
      d[c] = Math.min(m, 255);
    }
  }
  for (let c = 0; c < d.length; c++) if (d[c] === 0 && cells[c]! >= 0) d[c] = 1;
  return d;
}

function clamp(v: number, n: number): number {
  return v < 0 ? 0 : v >= n ? n - 1 : v;
}

/** Call `mark` for every cell one of the ring's edges passes through (widened by EDGE_SLACK cells), clamped to the grid. */
function drawEdges(ring: Float64Array, gx: number, gy: number, invLng: number, invLat: number, nx: number, ny: number, mark: (x: number, y: number) => void): void {
  for (let k = 2; k < ring.length; k += 2) {
    const ax = (ring[k - 2]! - gx) * invLng, ay = (ring[k - 1]! - gy) * invLat;
    const bx = (ring[k]! - gx) * invLng, by = (ring[k + 1]! - gy) * invLat;
    const lo = Math.min(ay, by) - EDGE_SLACK, hi = Math.max(ay, by) + EDGE_SLACK;
    for (let y = clamp(Math.floor(lo), ny), y1 = clamp(Math.floor(hi), ny); y <= y1; y++) {
      // The edge's x extent within this row (a horizontal or very short edge: its whole extent).
      let x0: number, x1: number;
      if (Math.abs(by - ay) < 1e-12) {
        x0 = Math.min(ax, bx);
        x1 = Math.max(ax, bx);
      } else {
        const ta = (Math.max(y, lo) - ay) / (by - ay), tb = (Math.min(y + 1, hi) - ay) / (by - ay);
        const ua = Math.min(1, Math.max(0, ta)), ub = Math.min(1, Math.max(0, tb));
        const xa = ax + (bx - ax) * ua, xb = ax + (bx - ax) * ub;
        x0 = Math.min(xa, xb);
        x1 = Math.max(xa, xb);
      }
      for (let x = clamp(Math.floor(x0 - EDGE_SLACK), nx), xe = clamp(Math.floor(x1 + EDGE_SLACK), nx); x <= xe; x++) mark(x, y);
    }
  }
}

/** The cell number under (lat, lng) degrees, or -1 outside the grid (and for NaN). */
export function cellIndex(g: ZoneGrid, lat: number, lng: number): number {
  const x = Math.floor((lng - g.gx) * g.invLng), y = Math.floor((lat - g.gy) * g.invLat);
  return x >= 0 && y >= 0 && x < g.nx && y < g.ny ? y * g.nx + x : -1;
}

/** The value (see ZoneGrid) of cell `c` (a cell number, or -1: 0). */
export function valueAt(g: ZoneGrid, c: number): number {
  return c < 0 ? 0 : g.cells[c]! >> 8;
}

/** The cell value under (lat, lng) degrees; 0 outside the grid. */
export function cellOf(g: ZoneGrid, lat: number, lng: number): number {
  return valueAt(g, cellIndex(g, lat, lng));
}

/**
 * The index in `zones` (the list the grid was built from) of the preferred zone holding (lat, lng),
 * given `v`, the value of its cell: decided cells answer at once, a boundary cell's candidates are
 * tested exactly in preference order. Allocates nothing.
 */
export function resolve(g: ZoneGrid, zones: readonly GridZone[], v: number, lat: number, lng: number): number {
  if (v >= 0) return v - 1;
  const b = -v - 1;
  for (let k = g.starts[b]!, e = g.starts[b + 1]!; k < e; k++) {
    const i = g.items[k]!;
    const z = zones[i]!;
    if (lng >= z.minLng && lng <= z.maxLng && lat >= z.minLat && lat <= z.maxLat && contains(z.rings, lat, lng)) return i;
  }
  return -1;
}

/** The index in `zones` of the preferred zone holding (lat, lng) degrees, or -1 (one cell read for most points). */
export function locate(g: ZoneGrid, zones: readonly GridZone[], lat: number, lng: number): number {
  return resolve(g, zones, cellOf(g, lat, lng), lat, lng);
}

/**
 * Whether (lat, lng) lies in the polygon (outer ring, minus holes), a point on an edge counting as inside:
 * the even-odd crossing rule over flat rings. Hand-rolled rather than turf's booleanPointInPolygon, which
 * a profile of benchmarks/zone-ingest.ts showed as the largest part of the per-fix cost (it re-reads the
 * GeoJSON and checks its box on every call); test/catalog-zone-index.test.ts checks both agree.
 */
export function contains(rings: readonly Float64Array[], lat: number, lng: number): boolean {
  let inside = false;
  for (let r = 0; r < rings.length; r++) {
    const ring = rings[r]!;
    const n = ring.length;
    for (let i = 0, j = n - 2; i < n; j = i, i += 2) {
      const xi = ring[i]!, yi = ring[i + 1]!, xj = ring[j]!, yj = ring[j + 1]!;
      // On the edge: collinear and within its box.
      const cross = (xj - xi) * (lat - yi) - (yj - yi) * (lng - xi);
      if (cross === 0 && lng >= Math.min(xi, xj) && lng <= Math.max(xi, xj) && lat >= Math.min(yi, yj) && lat <= Math.max(yi, yj)) return true;
      if ((yi > lat) !== (yj > lat) && lng < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside;
}
