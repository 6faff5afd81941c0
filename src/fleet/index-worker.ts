// Worker thread: builds a city's kdbush snapshot (sort, unit vectors, split values) off the event loop.
import { parentPort } from 'node:worker_threads';
import { serveRpc } from '../util/worker-rpc.js';
import KDBush from 'kdbush';
import { buildSplits, putPoint } from './kd-nearest.js';

/** Request: `input` holds [lng, lat, slot] per driver (degrees); the answer shares `data` and `pts`. */
export interface BuildRequest { n: number; nodeSize: number; input: SharedArrayBuffer }
export interface BuildResult { data: SharedArrayBuffer | null; pts: SharedArrayBuffer | null; splits: Float64Array }

function build(m: BuildRequest): BuildResult {
  const { n, nodeSize } = m;
  if (n === 0) return { data: null, pts: null, splits: new Float64Array(0) };
  const inp = new Float64Array(m.input, 0, 3 * n);
  // The index lives in a SharedArrayBuffer, so handing it to the main thread copies nothing.
  const kd = new KDBush(n, nodeSize, Float64Array, SharedArrayBuffer);
  for (let i = 0; i < n; i++) kd.add(inp[3 * i]!, inp[3 * i + 1]!);
  kd.finish();
  const { ids, coords } = kd as unknown as { ids: Uint16Array | Uint32Array; coords: Float64Array };
  // [x, y, z, slot] per kd position: the unit vector the search ranks by, and whose driver it is.
  const ptsBuf = new SharedArrayBuffer(32 * n);
  const pts = new Float64Array(ptsBuf);
  for (let p = 0; p < n; p++) putPoint(pts, p, coords[2 * p]!, coords[2 * p + 1]!, inp[3 * ids[p]! + 2]!);
  const splits = buildSplits(coords, n, nodeSize, new Float64Array(0));
  return { data: kd.data as SharedArrayBuffer, pts: ptsBuf, splits };
}

if (parentPort) serveRpc(parentPort, build, (r) => (r.splits.length > 0 ? [r.splits.buffer as ArrayBuffer] : []));
