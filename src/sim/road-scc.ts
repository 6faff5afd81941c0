// Largest strongly connected component of a CSR digraph (iterative Tarjan, so no call-stack limit).

/**
 * Marks the nodes of the largest strongly connected component of a directed graph in CSR form
 * (out-edges of node v are targets[offsets[v] .. offsets[v+1]-1]).
 * Returns a mask with 1 for kept nodes. Ties between equal-sized components go to the first found.
 * Iterative because road graphs have long chains that would overflow a recursive DFS.
 */
export function largestSccMask(nodeCount: number, offsets: Int32Array, targets: Int32Array): Uint8Array {
  const index = new Int32Array(nodeCount).fill(-1);
  const low = new Int32Array(nodeCount);
  const onStack = new Uint8Array(nodeCount);
  const comp = new Int32Array(nodeCount).fill(-1);
  const sccStack = new Int32Array(nodeCount);
  let sccTop = 0;
  // Simulated call stack: the node and the next out-edge to look at.
  const callNode = new Int32Array(nodeCount);
  const callEdge = new Int32Array(nodeCount);
  let nextIndex = 0;
  let compCount = 0;
  let bestComp = -1;
  let bestSize = 0;

  for (let root = 0; root < nodeCount; root++) {
    if (index[root] !== -1) continue;
    let depth = 0;
    callNode[0] = root;
    callEdge[0] = offsets[root];
    index[root] = low[root] = nextIndex++;
    sccStack[sccTop++] = root;
    onStack[root] = 1;

    while (depth >= 0) {
      const v = callNode[depth];
      const e = callEdge[depth];
      if (e < offsets[v + 1]) {
        callEdge[depth] = e + 1;
        const w = targets[e];
        if (index[w] === -1) {
          // "Recurse" into w.
          index[w] = low[w] = nextIndex++;
          sccStack[sccTop++] = w;
          onStack[w] = 1;
          depth++;
          callNode[depth] = w;
          callEdge[depth] = offsets[w];
        } else if (onStack[w] && index[w] < low[v]) {
          low[v] = index[w];
        }
        continue;
      }
      // All edges of v done: pop a component if v is its root, then "return" to the parent.
      if (low[v] === index[v]) {
        let size = 0;
        let w: number;
        do {
          w = sccStack[--sccTop];
          onStack[w] = 0;
          comp[w] = compCount;
          size++;
        } while (w !== v);
        if (size > bestSize) {
          bestSize = size;
          bestComp = compCount;
        }
        compCount++;
      }
      depth--;
      if (depth >= 0) {
        const parent = callNode[depth];
        if (low[v] < low[parent]) low[parent] = low[v];
      }
    }
  }

  const mask = new Uint8Array(nodeCount);
  for (let v = 0; v < nodeCount; v++) if (comp[v] === bestComp) mask[v] = 1;
  return mask;
}
