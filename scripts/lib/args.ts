// Tiny argv parser: --key value, --key=value, --flag, and positionals.
export interface ParsedArgs {
  positional: string[];
  options: Map<string, string | true>;
}

export function parseArgs(argv: string[], booleanFlags: string[] = []): ParsedArgs {
  const positional: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) options.set(a.slice(2, eq), a.slice(eq + 1));
      else if (booleanFlags.includes(a.slice(2)) || i + 1 >= argv.length || argv[i + 1].startsWith('--')) options.set(a.slice(2), true);
      else options.set(a.slice(2), argv[++i]);
    } else positional.push(a);
  }
  return { positional, options };
}

export function optString(args: ParsedArgs, key: string, fallback: string): string {
  const v = args.options.get(key);
  return typeof v === 'string' ? v : fallback;
}

export function optNumber(args: ParsedArgs, key: string, fallback: number): number {
  const v = args.options.get(key);
  if (typeof v !== 'string') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${key} expects a number, got '${v}'`);
  return n;
}
