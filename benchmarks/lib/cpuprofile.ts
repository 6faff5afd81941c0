// V8 .cpuprofile (node --cpu-prof) tools: self/total time per function, and an SVG flame graph.
import fs from 'node:fs';
import path from 'node:path';

interface ProfNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile { nodes: ProfNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

export interface FnTime { fn: string; selfMs: number; selfPct: number; totalMs: number; totalPct: number }

function fnKey(n: ProfNode, root: string): string {
  const cf = n.callFrame;
  const name = cf.functionName || '(anonymous)';
  if (!cf.url) return name;
  let file = cf.url.replace(/^file:\/\//, '');
  if (file.startsWith(root)) file = file.slice(root.length + 1);
  file = file.replace(/^.*node_modules\//, '~');
  return `${name} ${file}:${cf.lineNumber + 1}`;
}

/** Self and inclusive time per function, most expensive (self) first. */
export function summarizeProfile(file: string, root: string, top = 40): { totalMs: number; byFn: FnTime[]; byTotal: FnTime[] } {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map<number, ProfNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) byId.set(n.id, n);
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let sum = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0) / 1000;
    sum += dt;
    let id: number | undefined = p.samples[i]!;
    const leaf = fnKey(byId.get(id)!, root);
    self.set(leaf, (self.get(leaf) ?? 0) + dt);
    const seen = new Set<string>();
    while (id !== undefined) {
      const k = fnKey(byId.get(id)!, root);
      if (!seen.has(k)) {
        seen.add(k);
        total.set(k, (total.get(k) ?? 0) + dt);
      }
      id = parent.get(id);
    }
  }
  const mk = (fn: string): FnTime => {
    const s = self.get(fn) ?? 0;
    const t = total.get(fn) ?? 0;
    return { fn, selfMs: Math.round(s), selfPct: Math.round((s / sum) * 1000) / 10, totalMs: Math.round(t), totalPct: Math.round((t / sum) * 1000) / 10 };
  };
  const byFn = [...self.keys()].map(mk).sort((a, b) => b.selfMs - a.selfMs).slice(0, top);
  const byTotal = [...total.keys()].map(mk).sort((a, b) => b.totalMs - a.totalMs).slice(0, top);
  return { totalMs: Math.round(sum), byFn, byTotal };
}

interface FlameNode { name: string; value: number; children: Map<string, FlameNode> }

/** Render a flame graph (root at the bottom) of a .cpuprofile as a standalone SVG. */
export function flameGraphSvg(file: string, root: string, title: string, width = 1400): string {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map<number, ProfNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) byId.set(n.id, n);
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const top: FlameNode = { name: 'all', value: 0, children: new Map() };
  for (let i = 0; i < p.samples.length; i++) {
    const stack: string[] = [];
    let id: number | undefined = p.samples[i]!;
    while (id !== undefined) {
      const n = byId.get(id)!;
      if (n.callFrame.functionName !== '(root)') stack.push(fnKey(n, root));
      id = parent.get(id);
    }
    const dt = p.timeDeltas[i] ?? 0;
    top.value += dt;
    let cur = top;
    for (let j = stack.length - 1; j >= 0; j--) {
      let c = cur.children.get(stack[j]!);
      if (!c) cur.children.set(stack[j]!, (c = { name: stack[j]!, value: 0, children: new Map() }));
      c.value += dt;
      cur = c;
    }
  }
  const rowH = 16;
  let maxDepth = 0;
  const rects: string[] = [];
  const minW = 0.5;
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const colour = (name: string): string => {
    if (/~|node:/.test(name)) return 'hsl(200,55%,70%)';
    if (/^\(garbage collector\)|^\(program\)|^\(idle\)/.test(name)) return 'hsl(0,0%,78%)';
    let h = 0;
    for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
    return `hsl(${20 + (h % 40)},85%,${55 + (h % 15)}%)`;
  };
  const walk = (n: FlameNode, x: number, depth: number): void => {
    const w = (n.value / top.value) * width;
    if (w < minW) return;
    maxDepth = Math.max(maxDepth, depth);
    rects.push(`${x.toFixed(2)}|${depth}|${w.toFixed(2)}|${n.name}|${n.value}`);
    let cx = x;
    for (const c of [...n.children.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      walk(c, cx, depth + 1);
      cx += (c.value / top.value) * width;
    }
  };
  walk(top, 0, 0);
  const h = (maxDepth + 1) * rowH + 40;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${h}" font-family="monospace" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/><text x="6" y="16" font-size="14">${esc(title)}</text>`,
  ];
  for (const r of rects) {
    const [xs, ds, ws, name, v] = r.split('|') as [string, string, string, string, string];
    const y = h - (Number(ds) + 1) * rowH - 4;
    const pct = ((Number(v) / top.value) * 100).toFixed(1);
    const label = Number(ws) > 40 ? esc(name).slice(0, Math.floor(Number(ws) / 6.6)) : '';
    out.push(`<g><title>${esc(name)} (${pct}%)</title><rect x="${xs}" y="${y}" width="${ws}" height="${rowH - 1}" fill="${colour(name)}" rx="1"/>` +
      (label ? `<text x="${Number(xs) + 3}" y="${y + 11}">${label}</text>` : '') + '</g>');
  }
  out.push('</svg>');
  return out.join('\n');
}

/** The newest .cpuprofile in a directory written after `sinceMs`, if any. */
export function newestProfile(dir: string, sinceMs = 0): string | undefined {
  if (!fs.existsSync(dir)) return undefined;
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(dir, f)).filter((f) => fs.statSync(f).mtimeMs >= sinceMs);
  files.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  return files[0];
}
