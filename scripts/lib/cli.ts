// Entry-point plumbing shared by the Node CLIs. Loads no tfjs, so usage errors stay fast.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManifestError } from '../../src/core/manifest';
import { HelpRequested, UsageError } from './args';

export { UsageError };

/**
 * Reports what escaped a CLI's main and returns the exit code: --help → usage on stdout, 0; usage
 * and manifest errors → message (and usage) on stderr, 2; anything else → message (the stack too
 * with CXR_DEBUG set), 1. Nothing but --help's usage goes to stdout, so a --json contract holds.
 */
export function reportCliError(e: unknown): number {
  if (e instanceof HelpRequested) {
    process.stdout.write(`${e.usage}\n`);
    return 0;
  }
  const usage = e instanceof ManifestError || e instanceof UsageError;
  process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
  if (e instanceof UsageError && e.usage) process.stderr.write(`${e.usage}\n`);
  if (!usage && process.env.CXR_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  return usage ? 2 : 1;
}

/** Runs `main` and exits with its code, or with reportCliError's for what it throws. */
export function runMain(main: (argv: string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => process.exit(reportCliError(e)),
  );
}

/**
 * Runs a CLI's `main` when its module is the process entry point (not when a test imports it).
 * Exit codes: what main returns, or reportCliError's.
 */
export function runIfMain(moduleUrl: string, main: (argv: string[]) => Promise<number>): void {
  if (!process.argv[1] || path.resolve(process.argv[1]) !== fileURLToPath(moduleUrl)) return;
  runMain(main);
}
