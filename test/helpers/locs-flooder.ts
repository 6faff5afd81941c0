// Test helper, run as a worker thread: one driver socket sending full `locs` frames flat out (a few in
// flight, so it measures the server, not its own send buffer), summing the acks it gets back.
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import { decodeFrame, encodeFrame } from '../../src/protocol/codec.js';

interface FlooderInput { url: string; token: string; ms: number; frames: number; points: number }
export interface FlooderResult { sent: number; acks: number; accepted: number; rejected: number; duplicates: number; limited: number; errs: number }

const { url, token, ms, frames: nFrames, points } = workerData as FlooderInput;
// Distinct frames (each point 1 s and ~1 m after the last, all in the past), sent round robin.
const t0 = Date.now() - nFrames * points * 1000 - 60_000;
const frames: Buffer[] = [];
for (let f = 0; f < nFrames; f++) {
  const pts: number[][] = [];
  for (let i = 0; i < points; i++) {
    const k = f * points + i;
    pts.push([t0 + k * 1000, 43.7 + k * 1e-5, 7.42 + 0.000123, 90.5, 8.25, 4.5]);
  }
  frames.push(encodeFrame({ t: 'locs', id: f, pts }));
}
const out: FlooderResult = { sent: 0, acks: 0, accepted: 0, rejected: 0, duplicates: 0, limited: 0, errs: 0 };
const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
ws.on('message', (data: Buffer) => {
  const m = decodeFrame(new Uint8Array(data));
  if (m.t === 'ack') {
    out.acks++;
    out.accepted += m.accepted as number;
    out.rejected += m.rejected as number;
    out.duplicates += m.duplicates as number;
    out.limited += m.limited as number;
  } else if (m.t === 'err') out.errs++;
});
ws.once('open', () => {
  const end = Date.now() + ms;
  let inFlight = 0;
  const pump = (): void => {
    while (inFlight < 8 && Date.now() < end) {
      inFlight++;
      ws.send(frames[out.sent % frames.length]!, { binary: true }, () => {
        inFlight--;
        pump();
      });
      out.sent++;
    }
    if (inFlight === 0 && Date.now() >= end) {
      // Let the last acks arrive before reporting.
      setTimeout(() => {
        parentPort!.postMessage(out);
        ws.close();
      }, 500);
    }
  };
  pump();
});
ws.once('error', (err) => parentPort!.postMessage({ error: String(err) }));
