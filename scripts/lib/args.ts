// The one argv parser of every CLI in scripts/ and bench/. Strict on purpose: each command declares
// its options, and anything else — an unknown or misspelt option (`--splt val`), an option missing
// its value (`--data` at the end, or followed by another option), a number that does not parse — is
// a usage error (message + usage on stderr, exit 2) instead of a silently ignored word that makes the
// command run on its defaults. Accepted forms: --key value, --key=value, --flag, `--` (everything
// after it is positional), and positionals where the command takes them. --help / -h prints the
// usage on stdout and exits 0. Loads nothing else, so usage errors stay fast.

/** What an option takes: nothing (a flag), a string, or a number (checked while parsing). */
export type OptionKind = 'flag' | 'string' | 'number';

export interface CliSpec {
  /** The full usage text, printed with every usage error and by --help. */
  usage: string;
  /** Every option the command accepts, without the leading `--` (help is always accepted). */
  options: Readonly<Record<string, OptionKind>>;
  /** Whether positional arguments are accepted (default: no, any is an error). */
  positionals?: boolean;
}

export interface ParsedArgs {
  positional: string[];
  /** Options given: flags map to true, the others to their (non-empty) value. */
  options: Map<string, string | true>;
}

/** A usage error: reported as `error: <message>` (plus the usage when known), exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Thrown by parseArgs for --help: the caller prints `usage` on stdout and exits 0. */
export class HelpRequested extends Error {
  constructor(readonly usage: string) {
    super('help requested');
    this.name = 'HelpRequested';
  }
}

/** Levenshtein distance, for "did you mean --split?" on a misspelt option. */
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

function unknownOption(name: string, spec: CliSpec): UsageError {
  const known = Object.keys(spec.options);
  const best = known
    .map((k) => ({ k, d: editDistance(name, k) }))
    .filter(({ d }) => d <= 2)
    .sort((x, y) => x.d - y.d)[0];
  return new UsageError(`unknown option --${name}${best ? ` (did you mean --${best.k}?)` : ''}`, spec.usage);
}

/** Parses argv against the command's declared options (throws UsageError / HelpRequested). */
export function parseArgs(argv: readonly string[], spec: CliSpec): ParsedArgs {
  const positional: string[] = [];
  const options = new Map<string, string | true>();
  const usageError = (message: string) => new UsageError(message, spec.usage);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      const rest = argv.slice(i + 1);
      if (rest.length > 0 && !spec.positionals) throw usageError(`unexpected argument '${rest[0]}'`);
      positional.push(...rest);
      break;
    }
    if (arg === '--help' || arg === '-h') throw new HelpRequested(spec.usage);
    if (!arg.startsWith('-') || arg === '-') {
      if (!spec.positionals) throw usageError(`unexpected argument '${arg}'`);
      positional.push(arg);
      continue;
    }
    if (!arg.startsWith('--')) throw usageError(`unknown option ${arg} (options are spelt --name)`);
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    const kind = Object.hasOwn(spec.options, name) ? spec.options[name] : undefined;
    if (kind === undefined) throw unknownOption(name, spec);
    if (kind === 'flag') {
      if (eq > 0) throw usageError(`--${name} takes no value (got '${arg.slice(eq + 1)}')`);
      options.set(name, true);
      continue;
    }
    let value: string;
    if (eq > 0) value = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      // A following option means this one's value was left out (`--data --split val`); a negative
      // number is still a value.
      if (next === undefined || (next.startsWith('-') && !/^-\d|^-\.\d/.test(next))) throw usageError(`--${name} needs a value`);
      value = next;
      i++;
    }
    if (value.trim() === '') throw usageError(`--${name} needs a value (got an empty one)`);
    if (kind === 'number' && !Number.isFinite(Number(value))) throw usageError(`--${name} expects a number, got '${value}'`);
    options.set(name, value);
  }
  return { positional, options };
}

/**
 * For scripts that run at module top level (no runIfMain): parseArgs, printing the usage and exiting
 * 0 for --help, or the error and usage on stderr with exit 2 for a usage error.
 */
export function parseArgsOrExit(argv: readonly string[], spec: CliSpec): ParsedArgs {
  try {
    return parseArgs(argv, spec);
  } catch (e) {
    if (e instanceof HelpRequested) {
      process.stdout.write(`${e.usage}\n`);
      process.exit(0);
    }
    if (e instanceof UsageError) {
      process.stderr.write(`error: ${e.message}\n${e.usage ? `${e.usage}\n` : ''}`);
      process.exit(2);
    }
    throw e;
  }
}

export function optString(args: ParsedArgs, key: string, fallback: string): string {
  const v = args.options.get(key);
  return typeof v === 'string' ? v : fallback;
}

/** The value of a 'number' option (validated by parseArgs), or the fallback when absent. */
export function optNumber(args: ParsedArgs, key: string, fallback: number): number {
  const v = args.options.get(key);
  if (typeof v !== 'string') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${key} expects a number, got '${v}'`);
  return n;
}
