// Tiny argv parser for the CLI: `--key value`, `--key=value`, and `--flag` (boolean) options.

/** Every command takes `--help` (or `-h`) without a value: it asks for that command's usage. */
const HELP = 'help';

export interface ParsedArgs {
  positional: string[];
  options: Record<string, string>;
}

/**
 * Parse argv; `booleans` names flags that take no value. `--help` and `-h` are always booleans and
 * land in `options.help`, so `taxiway <command> --help` never fails with "needs a value".
 */
export function parseArgs(argv: string[], booleans: ReadonlySet<string> = new Set()): ParsedArgs {
  const positional: string[] = [];
  const options: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h') {
      options[HELP] = 'true';
      continue;
    }
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    if (eq > 0) {
      options[a.slice(2, eq)] = a.slice(eq + 1);
      continue;
    }
    const key = a.slice(2);
    if (key === HELP || booleans.has(key)) options[key] = 'true';
    else {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new Error(`option --${key} needs a value`);
      options[key] = v;
      i++;
    }
  }
  return { positional, options };
}

/** Take option `key` out of `opts` (so leftovers can be reported as unknown). */
export function take(opts: Record<string, string>, key: string): string | undefined {
  const v = opts[key];
  delete opts[key];
  return v;
}

/** Parse an integer option, with a clear error. */
export function intOption(v: string | undefined, name: string, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

/** True when argv asks for help (`--help`, `-h` or `--help=...`): checked before anything else is parsed. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.some((a) => a === '-h' || a === '--help' || a.startsWith('--help='));
}
