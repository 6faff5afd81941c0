// Persistence port for learned ETA state (one JSON document per city) with file (embedded) and memory adapters.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LearnedEta } from './learned-eta.js';
import type { LearnedEtaOptions, LearnedEtaState } from './learned-eta.js';
import { readTraceCsv } from './trace-csv.js';
import { filterTrips, readTripCsv } from './trip-csv.js';

/**
 * Guarantees: `load` returns the last document `save`d for that city (or null), byte for byte; a save is
 * all-or-nothing, also when saves of one city overlap (the last one requested is kept). Durable adapters
 * (file, Redis) keep it across restarts. Contract suite: test/contract/eta-state-store-contract.ts.
 */
export interface EtaStateStore {
  load(city: string): Promise<string | null>;
  save(city: string, doc: string): Promise<void>;
}

function safeName(city: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(city)) throw new Error(`city name ${JSON.stringify(city)} cannot name an ETA state file`);
  return city;
}

/**
 * Embedded mode: `<dir>/eta-<city>.json`, written to a temp file and renamed so a crash never leaves half a
 * file. Saves of one city run one after the other (overlapping saves once shared the temp file, and one
 * of them failed or could rename a mix), so the last save requested is the one kept.
 */
export class FileEtaStateStore implements EtaStateStore {
  /** Tail of each city's queue of saves. */
  private readonly saving = new Map<string, Promise<void>>();

  constructor(readonly dir: string) {}

  async load(city: string): Promise<string | null> {
    try {
      return await readFile(path.join(this.dir, `eta-${safeName(city)}.json`), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async save(city: string, doc: string): Promise<void> {
    const file = path.join(this.dir, `eta-${safeName(city)}.json`);
    const run = (this.saving.get(city) ?? Promise.resolve()).catch(() => {}).then(() => this.write(file, doc));
    this.saving.set(city, run);
    // Forget the queue once it is empty, so the map holds only cities being saved.
    const forget = (): void => {
      if (this.saving.get(city) === run) this.saving.delete(city);
    };
    run.then(forget, forget);
    return run;
  }

  private async write(file: string, doc: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, doc);
    await rename(tmp, file);
  }
}

export class MemoryEtaStateStore implements EtaStateStore {
  readonly docs = new Map<string, string>();
  async load(city: string): Promise<string | null> {
    return this.docs.get(city) ?? null;
  }
  async save(city: string, doc: string): Promise<void> {
    this.docs.set(city, doc);
  }
}

export async function saveLearnedEta(store: EtaStateStore, model: LearnedEta): Promise<void> {
  await store.save(model.city, JSON.stringify(model.toState()));
}

export interface OpenLearnedEtaOptions extends LearnedEtaOptions {
  /** Trip CSV (ETA trip format) to learn from when the store has nothing for this city. */
  seedTripsCsv?: string;
  /** Porto-format trace CSV fed as telemetry with the seed trips. */
  seedTracesCsv?: string;
}

/**
 * The city's model as it was last saved, or a new one trained from the seed files (then saved), or an
 * untrained one (which answers like the baseline until `maintain()` has enough trips to fit).
 */
export async function openLearnedEta(store: EtaStateStore, opts: OpenLearnedEtaOptions): Promise<LearnedEta> {
  const doc = await store.load(opts.city);
  if (doc !== null) {
    const state = JSON.parse(doc) as LearnedEtaState;
    return LearnedEta.fromState(state, { maxTrips: opts.maxTrips, retrainEvery: opts.retrainEvery, gbm: opts.gbm, timeZone: opts.timeZone });
  }
  const m = new LearnedEta(opts);
  if (opts.seedTracesCsv) for (const t of readTraceCsv(opts.seedTracesCsv)) m.observeTrace(t);
  if (opts.seedTripsCsv) {
    m.addHistory(filterTrips(readTripCsv(opts.seedTripsCsv)).kept);
    m.fit();
  }
  await saveLearnedEta(store, m);
  return m;
}
