// Worker thread: fits learned ETA models (fitLearned) so a refit never blocks the event loop.
import { parentPort } from 'node:worker_threads';
import { serveRpc } from '../util/worker-rpc.js';
import { fitLearned } from './learned-fit.js';
import type { FitInput, FitOutput } from './learned-fit.js';

if (parentPort) serveRpc<FitInput, FitOutput>(parentPort, (input) => fitLearned(input));
