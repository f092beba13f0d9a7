// Strict option parsing (scripts/lib/args.ts), the one parser of every CLI in scripts/ and bench/: an
// unknown or misspelt option, an option without its value, or a bad number is a usage error (message
// and usage on stderr, exit 2) instead of a word silently ignored; --help prints the usage and exits 0.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HelpRequested, UsageError, parseArgs, type CliSpec } from '../../scripts/lib/args';

const REPO_ROOT = path.resolve(new URL('../..', import.meta.url).pathname);
const TSX = path.join(REPO_ROOT, 'node_modules/.bin/tsx');

const spec: CliSpec = {
  usage: 'usage: demo [--data <dir>] [--split test] [--batch 32] [--json] <files...>',
  options: { data: 'string', split: 'string', batch: 'number', json: 'flag' },
  positionals: true,
};

function usageError(argv: string[], s: CliSpec = spec): UsageError {
  try {
    parseArgs(argv, s);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    expect((e as UsageError).usage).toBe(s.usage);
    return e as UsageError;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
}

describe('parseArgs', () => {
  it('accepts the declared forms', () => {
    const a = parseArgs(['--data', 'd', '--split=val', '--batch', '8', '--json', 'x.png', '--', '--not-an-option.png'], spec);
    expect(Object.fromEntries(a.options)).toEqual({ data: 'd', split: 'val', batch: '8', json: true });
    expect(a.positional).toEqual(['x.png', '--not-an-option.png']);
    expect(parseArgs(['--batch', '-1'], spec).options.get('batch')).toBe('-1');
  });

  it('refuses unknown and misspelt options (with a suggestion), not ignoring them', () => {
    expect(usageError(['--splt', 'val']).message).toBe('unknown option --splt (did you mean --split?)');
    expect(usageError(['--frobnicate', 'f.png']).message).toBe('unknown option --frobnicate');
    expect(usageError(['-x']).message).toMatch(/unknown option -x/);
  });

  it('refuses an option without its value, instead of taking the next option or falling back to the default', () => {
    expect(usageError(['--data']).message).toBe('--data needs a value');
    expect(usageError(['--data', '--split', 'val']).message).toBe('--data needs a value');
    expect(usageError(['--data=']).message).toMatch(/--data needs a value/);
    expect(usageError(['--data', '  ']).message).toMatch(/--data needs a value/);
  });

  it('refuses bad numbers, values given to flags, and positionals where none are taken', () => {
    expect(usageError(['--batch', 'abc']).message).toBe("--batch expects a number, got 'abc'");
    expect(usageError(['--json=yes']).message).toMatch(/--json takes no value/);
    const noPositionals = { ...spec, positionals: false };
    expect(usageError(['stray'], noPositionals).message).toBe("unexpected argument 'stray'");
    expect(usageError(['--', 'stray'], noPositionals).message).toBe("unexpected argument 'stray'");
  });

  it('--help and -h ask for the usage', () => {
    for (const h of ['--help', '-h']) expect(() => parseArgs(['--data', 'd', h], spec)).toThrow(HelpRequested);
  });
});

/** Kills a detached child's whole process group (tsx runs the script in a grandchild process). */
function killGroup(pid: number | undefined): void {
  try {
    if (pid) process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a CLI; killed after 90 s (a CLI that ignored its options might start real work). */
function tsx(file: string, args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [file, ...args], { cwd: REPO_ROOT, env: { ...process.env, CXR_WASM_THREADS: '1', FORCE_COLOR: '0' }, detached: true });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => killGroup(child.pid), 90_000);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Every script in scripts/ and bench/ that reads its command line. */
function cliFiles(): string[] {
  const found: string[] = [];
  for (const dir of ['scripts', 'bench', 'bench/lib']) {
    for (const name of fs.readdirSync(path.join(REPO_ROOT, dir))) {
      if (!name.endsWith('.ts')) continue;
      const text = fs.readFileSync(path.join(REPO_ROOT, dir, name), 'utf8');
      if (/process\.argv|runIfMain\(|runMain\(/.test(text)) found.push(`${dir}/${name}`);
    }
  }
  return found.sort();
}

async function inBatches<T, R>(items: T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

describe('every CLI declares its options', () => {
  it('finds the command-line scripts', () => {
    const files = cliFiles();
    for (const f of ['scripts/evaluate.ts', 'scripts/predict.ts', 'scripts/train.ts', 'bench/bench.ts', 'bench/finetune.ts', 'scripts/bench-train.ts'])
      expect(files).toContain(f);
  });

  it('an unknown option: exit 2, the error and the usage on stderr, nothing on stdout; --help: usage on stdout, exit 0', async () => {
    const files = cliFiles();
    const results = await inBatches(files, 3, async (file) => ({ file, bad: await tsx(file, ['--no-such-option']), help: await tsx(file, ['--help']) }));
    for (const { file, bad, help } of results) {
      expect(bad.code, `${file}: ${bad.stderr}`).toBe(2);
      expect(bad.stderr, file).toMatch(/error: unknown option --no-such-option/);
      expect(bad.stderr, file).toMatch(/usage:/);
      expect(bad.stdout, file).toBe('');
      expect(help.code, `${file}: ${help.stderr}`).toBe(0);
      expect(help.stdout, file).toMatch(/^usage:/);
    }
  }, 600_000);

  it('the reported cases: evaluate --splt val, --data without a value, predict --frobnicate f.png, a bad number', async () => {
    const [splt, noData, frob, batch] = await inBatches(
      [
        ['scripts/evaluate.ts', ['--splt', 'val']],
        ['scripts/evaluate.ts', ['--split', 'val', '--data']],
        ['scripts/predict.ts', ['--frobnicate', 'f.png']],
        ['scripts/predict.ts', ['--batch', 'lots', 'f.png']],
      ] as [string, string[]][],
      2,
      ([file, args]) => tsx(file, args),
    );
    expect(splt.code).toBe(2);
    expect(splt.stderr).toMatch(/unknown option --splt \(did you mean --split\?\)/);
    expect(noData.code).toBe(2);
    expect(noData.stderr).toMatch(/--data needs a value/);
    expect(frob.code).toBe(2);
    expect(frob.stderr).toMatch(/unknown option --frobnicate/);
    expect(frob.stdout).toBe('');
    expect(batch.code).toBe(2);
    expect(batch.stderr).toMatch(/--batch expects a number, got 'lots'/);
  }, 300_000);
});
