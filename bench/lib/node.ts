// The Node figures of the bench: training throughput from `npm run bench:train` and inference
// throughput from `npm run evaluate`, each run as the command a user would run, its output parsed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../tests/browser/helpers';

const TSX = path.join(REPO_ROOT, 'node_modules/.bin/tsx');

function run(args: string[], timeoutMs: number): { ok: boolean; out: string; seconds: number } {
  const t0 = Date.now();
  const r = spawnSync(TSX, args, { cwd: REPO_ROOT, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}\n${r.stderr ?? ''}`, seconds: (Date.now() - t0) / 1000 };
}

export interface TrainBench {
  command: string;
  ok: boolean;
  seconds: number;
  /** Training images/s (Adam step, batch 16) of the shipped architecture and of the reference CNN. */
  shippedTrainImagesPerSecond: number | null;
  shippedInferenceImagesPerSecond: number | null;
  referenceCnnTrainImagesPerSecond: number | null;
  referenceCnnInferenceImagesPerSecond: number | null;
  backendLine: string | null;
  error?: string;
}

export function benchTrain(quick: boolean): TrainBench {
  const args = ['scripts/bench-train.ts', ...(quick ? ['--steps', '7', '--warmup', '1'] : [])];
  const r = run(args, 15 * 60_000);
  const num = (re: RegExp) => {
    const m = r.out.match(re);
    return m ? Number(m[1]) : null;
  };
  return {
    command: `npx tsx ${args.join(' ')}   (= npm run bench:train${quick ? ' -- --steps 7 --warmup 1' : ''})`,
    ok: r.ok,
    seconds: r.seconds,
    shippedTrainImagesPerSecond: num(/^shipped: ([\d.]+) images\/s training/m),
    shippedInferenceImagesPerSecond: num(/^shipped: [\d.]+ images\/s training, ([\d.]+) images\/s inference/m),
    referenceCnnTrainImagesPerSecond: num(/^reference-cnn: ([\d.]+) images\/s\s*$/m),
    referenceCnnInferenceImagesPerSecond: num(/^reference-cnn inference: ([\d.]+) images\/s/m),
    backendLine: r.out.match(/^backend .*$/m)?.[0] ?? null,
    error: r.ok ? undefined : r.out.trim().split('\n').slice(-5).join('\n'),
  };
}

export interface EvaluateBench {
  command: string;
  ok: boolean;
  seconds: number;
  images: number | null;
  imagesPerSecond: number | null;
  measures: string | null;
  backend: string | null;
  threads: number | null;
  batchSize: number | null;
  error?: string;
}

export function benchEvaluate(modelDir: string, limit: number): EvaluateBench {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-bench-')), 'evaluate.json');
  const args = [
    'scripts/evaluate.ts',
    '--model',
    modelDir,
    '--split',
    'test',
    '--bootstrap',
    '1',
    '--out',
    out,
    ...(limit > 0 ? ['--limit', String(limit)] : []),
  ];
  const r = run(args, 15 * 60_000);
  let j: { throughput?: { images: number; imagesPerSecond: number; measures: string; batchSize: number }; meta?: { backend: string; threads: number } } = {};
  try {
    j = JSON.parse(fs.readFileSync(out, 'utf8'));
  } catch {
    /* reported below */
  }
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
  return {
    command: `npx tsx ${args.map((a) => (a === out ? '<tmp>/evaluate.json' : a === modelDir ? path.relative(REPO_ROOT, modelDir) || '.' : a)).join(' ')}`,
    ok: r.ok && !!j.throughput,
    seconds: r.seconds,
    images: j.throughput?.images ?? null,
    imagesPerSecond: j.throughput?.imagesPerSecond ?? null,
    measures: j.throughput?.measures ?? null,
    backend: j.meta?.backend ?? null,
    threads: j.meta?.threads ?? null,
    batchSize: j.throughput?.batchSize ?? null,
    error: r.ok ? undefined : r.out.trim().split('\n').slice(-5).join('\n'),
  };
}
