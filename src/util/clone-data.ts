// Deep copy of plain data (objects, arrays, primitives): the job documents' defensive copies.

/**
 * A deep copy of `v`, for plain data as the job path holds it (objects with `Object.prototype` or a null
 * prototype, arrays, strings, numbers, booleans, null, undefined, bigint). Anything else (a Date, Map, typed
 * array, class instance) is copied with `structuredClone`. About 7× cheaper than `structuredClone` for a job
 * document (0.55 vs 4.1 µs on the bench machine, 2026-12-05): a job's transition copied its document five
 * times. Unlike `structuredClone`, shared references become separate copies and a cycle never ends: job
 * documents have neither (they are built from JSON and msgpack).
 */
export function cloneData<T>(v: T): T {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    const n = v.length;
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = cloneData(v[i] as unknown);
    return out as T;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) return structuredClone(v);
  const out: Record<string, unknown> = {};
  const src = v as Record<string, unknown>;
  for (const k of Object.keys(src)) out[k] = cloneData(src[k]);
  return out as T;
}
