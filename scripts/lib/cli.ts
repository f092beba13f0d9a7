// Entry-point plumbing shared by the Node CLIs. Loads no tfjs, so usage errors stay fast.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManifestError } from '../../src/core/manifest';

/** Usage or data errors: reported without a stack, exit code 2. */
export class UsageError extends Error {}

/**
 * Runs a CLI's `main` when its module is the process entry point (not when a test imports it).
 * Exit codes: what main returns; 2 for usage and manifest errors (message only); 1 for anything else
 * (message; the stack too with CXR_DEBUG set).
 */
export function runIfMain(moduleUrl: string, main: (argv: string[]) => Promise<number>): void {
  if (!process.argv[1] || path.resolve(process.argv[1]) !== fileURLToPath(moduleUrl)) return;
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      const usage = e instanceof ManifestError || e instanceof UsageError;
      process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
      if (!usage && process.env.CXR_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
      process.exit(usage ? 2 : 1);
    },
  );
}
