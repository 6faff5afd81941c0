// Switchback experiments of a city (the cities file's `experiments`): their schema and validation, every error naming the field.
import { ConfigError } from './config-error.js';
import { DISPATCH_ENV } from './dispatch-settings.js';
import type { ArmDef, DispatchSettings, ExperimentDef } from '../protocol/catalog-docs.js';
import { SETTINGS, checkNumber } from './settings.js';
import type { NumberSetting } from './settings.js';

/** The types live with the city document (src/protocol/catalog-docs.ts). */
export type { ArmDef, ExperimentDef };

/** Most arms of one experiment (the report compares every arm with the first). */
export const MAX_ARMS = 8;
/** Shortest window, ms: shorter windows carry too few jobs to mean anything (tests use 1-2 s). */
export const WINDOW_MIN_MS = 1000;
/** Longest window, ms (one day): longer ones would take weeks to give a few windows per arm. */
export const WINDOW_MAX_MS = 86_400_000;
/** Most experiments one city may list (they may not overlap in time). */
export const MAX_EXPERIMENTS = 32;

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const EXPERIMENT_KEYS = new Set(['name', 'arms', 'windowMs', 'seed', 'start', 'end']);
const ARM_KEYS = new Set(['name', 'policy', 'params', 'share']);
/** Tolerance of the shares' sum (decimal fractions such as 0.1 + 0.2 do not add up to 0.3 exactly). */
const SHARE_SUM_EPSILON = 1e-9;

/** Validate a city's `experiments` array (`where` names it, e.g. `...cities[0].experiments`). */
export function parseExperiments(raw: unknown, where: string): ExperimentDef[] {
  if (!Array.isArray(raw)) throw new ConfigError(`${where} must be an array of experiments`);
  if (raw.length > MAX_EXPERIMENTS) throw new ConfigError(`${where} lists ${raw.length} experiments: at most ${MAX_EXPERIMENTS}`);
  const out = raw.map((e: unknown, i) => parseExperiment(e, `${where}[${i}]`));
  const names = new Set<string>();
  out.forEach((e, i) => {
    if (names.has(e.name)) throw new ConfigError(`${where}[${i}].name ${e.name} is used twice`);
    names.add(e.name);
    for (let j = 0; j < i; j++) {
      const o = out[j]!;
      const overlap = (e.startMs ?? -Infinity) < (o.endMs ?? Infinity) && (o.startMs ?? -Infinity) < (e.endMs ?? Infinity);
      if (overlap) throw new ConfigError(`${where}[${i}].start/end: ${e.name} overlaps ${o.name} in time (one experiment per city at a time)`);
    }
  });
  return out;
}

function parseExperiment(raw: unknown, where: string): ExperimentDef {
  const e = asObject(raw, where);
  for (const k of Object.keys(e)) if (!EXPERIMENT_KEYS.has(k)) throw new ConfigError(`${where}.${k} is not an experiment field (${[...EXPERIMENT_KEYS].join(', ')})`);
  if (typeof e.name !== 'string' || !NAME.test(e.name)) throw new ConfigError(`${where}.name must be 1-64 of A-Z a-z 0-9 _ -`);
  const windowMs = e.windowMs;
  if (typeof windowMs !== 'number' || !Number.isInteger(windowMs) || windowMs < WINDOW_MIN_MS || windowMs > WINDOW_MAX_MS) {
    throw new ConfigError(`${where}.windowMs=${JSON.stringify(windowMs)}: expected an integer from ${WINDOW_MIN_MS} to ${WINDOW_MAX_MS} (ms)`);
  }
  const seed = e.seed;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new ConfigError(`${where}.seed=${JSON.stringify(seed)}: expected an integer from 0 to 4294967295`);
  }
  const exp: ExperimentDef = { name: e.name, arms: parseArms(e.arms, `${where}.arms`), windowMs, seed };
  if (e.start !== undefined) exp.startMs = parseTime(e.start, `${where}.start`);
  if (e.end !== undefined) exp.endMs = parseTime(e.end, `${where}.end`);
  if (exp.startMs !== undefined && exp.endMs !== undefined && exp.endMs - exp.startMs < windowMs) {
    throw new ConfigError(`${where}.end must be at least one window (windowMs) after start`);
  }
  return exp;
}

function parseArms(raw: unknown, where: string): ArmDef[] {
  if (!Array.isArray(raw) || raw.length < 2 || raw.length > MAX_ARMS) throw new ConfigError(`${where} must be an array of 2 to ${MAX_ARMS} arms`);
  const arms = raw.map((a: unknown, i) => parseArm(a, `${where}[${i}]`));
  const names = new Set<string>();
  arms.forEach((a, i) => {
    if (names.has(a.name)) throw new ConfigError(`${where}[${i}].name ${a.name} is used twice`);
    names.add(a.name);
  });
  const withShare = arms.filter((a) => a.share !== undefined).length;
  if (withShare !== 0 && withShare !== arms.length) throw new ConfigError(`${where}[].share: give a share to every arm or to none (equal shares)`);
  if (withShare) {
    const sum = arms.reduce((s, a) => s + a.share!, 0);
    if (Math.abs(sum - 1) > SHARE_SUM_EPSILON) throw new ConfigError(`${where}[].share: the shares sum to ${sum}, expected 1`);
  }
  return arms;
}

function parseArm(raw: unknown, where: string): ArmDef {
  const a = asObject(raw, where);
  for (const k of Object.keys(a)) if (!ARM_KEYS.has(k)) throw new ConfigError(`${where}.${k} is not an arm field (${[...ARM_KEYS].join(', ')})`);
  if (typeof a.name !== 'string' || !NAME.test(a.name)) throw new ConfigError(`${where}.name must be 1-64 of A-Z a-z 0-9 _ -`);
  if (typeof a.policy !== 'string' || a.policy === '') throw new ConfigError(`${where}.policy must be the name of a dispatch policy`);
  const arm: ArmDef = { name: a.name, policy: a.policy };
  if (a.params !== undefined) arm.params = parseParams(a.params, `${where}.params`);
  if (a.share !== undefined) {
    if (typeof a.share !== 'number' || !Number.isFinite(a.share) || a.share <= 0 || a.share >= 1) {
      throw new ConfigError(`${where}.share=${JSON.stringify(a.share)}: expected a number greater than 0 and less than 1`);
    }
    arm.share = a.share;
  }
  return arm;
}

/** Dispatch settings an arm overrides: the same names and ranges as the flag table (and the city's `dispatch`). */
function parseParams(raw: unknown, where: string): Partial<DispatchSettings> {
  const p = asObject(raw, where);
  const out: Partial<DispatchSettings> = {};
  for (const [k, v] of Object.entries(p)) {
    if (!(k in DISPATCH_ENV)) throw new ConfigError(`${where}.${k} is not a dispatch setting (${Object.keys(DISPATCH_ENV).join(', ')})`);
    const key = k as keyof DispatchSettings;
    const s: NumberSetting = SETTINGS[DISPATCH_ENV[key]];
    checkNumber(v, s, () => `${where}.${k}=${JSON.stringify(v)}`);
    out[key] = v;
  }
  return out;
}

/** A time: ms since the epoch, or an ISO 8601 date-time with its zone (`2026-12-07T00:00:00Z`). */
function parseTime(v: unknown, where: string): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(v)) {
    const ms = Date.parse(v);
    if (Number.isFinite(ms)) return ms;
  }
  throw new ConfigError(`${where}=${JSON.stringify(v)}: expected ms since the epoch or an ISO 8601 date-time with its zone, e.g. "2026-12-07T00:00:00Z"`);
}

function asObject(raw: unknown, where: string): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${where} must be an object`);
  return raw as Record<string, unknown>;
}
