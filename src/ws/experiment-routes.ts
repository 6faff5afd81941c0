// GET /v1/experiments (ops): the switchback experiments' outcomes per arm, from this node's aggregates.
import type { TemplatedApp } from 'uWebSockets.js';
import type { ExperimentOutcomes } from '../matching/experiment-outcomes.js';
import { experimentReport } from '../matching/experiment-report.js';
import { route } from './http-kit.js';
import type { HttpKitDeps } from './http-kit.js';

export interface ExperimentRouteDeps extends HttpKitDeps {
  outcomes: ExperimentOutcomes;
}

/** Register `GET /v1/experiments` and its HEAD twin; other roles get 403. */
export function registerExperimentRoutes(app: TemplatedApp, d: ExperimentRouteDeps): void {
  const handler = async (): Promise<{ status: number; body: unknown }> => {
    const now = Date.now();
    return { status: 200, body: { experiments: d.outcomes.experiments.map((e) => experimentReport(e, now)) } };
  };
  app.get('/v1/experiments', route(d, { name: 'GET /v1/experiments', roles: ['ops'], handler }));
  app.head('/v1/experiments', route(d, { name: 'HEAD /v1/experiments', roles: ['ops'], handler }));
}
