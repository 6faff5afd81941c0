// A paced HTTP client for POST /v1/jobs: open-loop at a set rate over keep-alive sockets, recording when
// each request went out and the job id it created.
import http from 'node:http';
import { nowMs } from './util.js';

export interface PostedJob { id: string | null; sentAt: number; doneAt: number; status: number; state?: string; rider: string }

export async function postJobsAtRate(o: {
  port: number; rate: number; durationS: number; body: (i: number) => { pickup: { lat: number; lng: number }; dropoff: { lat: number; lng: number } | null };
  token: (i: number) => string; rider: (i: number) => string; maxSockets?: number; count?: number;
}): Promise<PostedJob[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.maxSockets ?? 32 });
  const total = o.count ?? Math.round(o.rate * o.durationS);
  const out: PostedJob[] = [];
  let sent = 0;
  const pending = new Set<Promise<void>>();
  const t0 = Date.now();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((Date.now() - t0) * o.rate) / 1000) + 1);
      while (sent < due) {
        const i = sent++;
        const body = JSON.stringify(o.body(i));
        const job: PostedJob = { id: null, sentAt: nowMs(), doneAt: NaN, status: 0, rider: o.rider(i) };
        out.push(job);
        const p = new Promise<void>((done) => {
          const req = http.request({ host: '127.0.0.1', port: o.port, method: 'POST', path: '/v1/jobs', agent, headers: { authorization: `Bearer ${o.token(i)}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              job.doneAt = nowMs();
              job.status = res.statusCode ?? 0;
              try {
                const rec = JSON.parse(Buffer.concat(chunks).toString()) as { id?: string; state?: string };
                job.id = rec.id ?? null;
                job.state = rec.state;
              } catch {
                /* not JSON */
              }
              done();
            });
          });
          req.on('error', () => {
            job.status = -1;
            done();
          });
          req.end(body);
        });
        pending.add(p);
        void p.then(() => pending.delete(p));
      }
      if (sent >= total) resolve();
      else setTimeout(tick, 2);
    };
    tick();
  });
  await Promise.all(pending);
  agent.destroy();
  return out;
}
