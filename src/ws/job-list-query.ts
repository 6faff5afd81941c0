// Query parameters of `GET /v1/jobs` (ops): state, city, limit and cursor, checked into a JobListQuery.
import type { JobListQuery } from '../matching/job-repo.js';
import { ProtocolError } from '../protocol/errors.js';
import { JOB_STATES } from '../protocol/messages.js';
import type { JobState } from '../protocol/messages.js';
import { queryNumber } from './http-kit.js';

/** Jobs in one page when `limit` is absent, and the most one page may hold. */
export const JOB_LIST_DEFAULT_LIMIT = 50;
export const JOB_LIST_MAX_LIMIT = 500;

/** bad_request naming the parameter for an unknown state, a bad limit or a cursor that is not one of ours. */
export function jobListQuery(q: URLSearchParams): JobListQuery {
  const out: JobListQuery = { limit: queryNumber(q, 'limit', JOB_LIST_DEFAULT_LIMIT, 1, JOB_LIST_MAX_LIMIT, true) };
  const state = q.get('state');
  if (state) {
    if (state !== 'live' && !(JOB_STATES as readonly string[]).includes(state)) throw new ProtocolError('bad_request', `state must be live or one of ${JOB_STATES.join(', ')}`);
    out.state = state as JobState | 'live';
  }
  const city = q.get('city');
  if (city) {
    if (city.length > 64) throw new ProtocolError('bad_request', 'city must be at most 64 characters');
    out.city = city;
  }
  const cursor = q.get('cursor');
  if (cursor) {
    if (!/^\d{1,16}$/.test(cursor)) throw new ProtocolError('bad_request', 'cursor must be the `next` of a previous page');
    out.cursor = cursor;
  }
  return out;
}
