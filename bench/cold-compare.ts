// npm run bench:cold -- --baseline <built site> [--runs 7] [--backend wasm|default] [--out file.json]
//
// Cold start of this build (dist/, built first when stale) against another build of the app — e.g.
// the commit before a start-up change — in the same invocation: fresh browser contexts alternate
// between the two sites (baseline, current, baseline, …), both served by `vite preview` with the same
// headers, the same test image handed over as soon as the file input exists. Reports the medians
// of "first prediction shown" and "model ready" for each and their ratio (current / baseline), so a
// change can be judged on a machine that is not quiet. The absolute figures are only meaningful on
// an idle machine (the load average is recorded).
//
// A baseline build: git worktree add /tmp/base <commit> && (cd /tmp/base && npm ci && npx vite build)
//                   then --baseline /tmp/base/dist
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { optNumber, optString, parseArgsOrExit } from '../scripts/lib/args';
import { REPO_ROOT, ensureBuild, hasData, launchBrowser, skipReason, startPreview, testImages } from '../tests/browser/helpers';
import { coldStart, type ColdStartRun } from './lib/app';
import { median } from './lib/stats';
import { COVID_CLASS } from '../src/core/labels';

const args = parseArgsOrExit(process.argv.slice(2), {
  usage: `usage: npm run bench:cold -- --baseline <built site> [--runs 7] [--backend wasm|default] [--out file.json]
  --baseline  another build of the app (a dist/ folder) to compare against
  --runs      cold starts of each site (alternating; default 7)
  --backend   wasm (?backend=wasm, the default) or default (the app's backend order)
  --out       results file (default bench/results/<date>-cold-compare.json)`,
  options: { baseline: 'string', runs: 'number', backend: 'string', out: 'string' },
});

async function main(): Promise<void> {
  const baselineDir = path.resolve(optString(args, 'baseline', ''));
  if (!fs.existsSync(path.join(baselineDir, 'index.html')))
    throw new Error(`--baseline ${baselineDir} is not a built site (no index.html); see the header of bench/cold-compare.ts`);
  if (!hasData()) throw new Error(skipReason());
  const runs = Math.max(1, Math.floor(optNumber(args, 'runs', 7)));
  const kind = optString(args, 'backend', 'wasm');
  if (kind !== 'wasm' && kind !== 'default') throw new Error(`--backend must be wasm or default, got '${kind}'`);
  const build = await ensureBuild();
  const image = testImages(COVID_CLASS, 1)[0];
  const load0 = os.loadavg();
  const sites = { baseline: await startPreview({ outDir: baselineDir }), current: await startPreview() };
  const browser = await launchBrowser();
  const got: Record<'baseline' | 'current', ColdStartRun[]> = { baseline: [], current: [] };
  try {
    for (let i = 0; i < runs; i++) {
      for (const which of ['baseline', 'current'] as const) {
        const r = await coldStart(browser, sites[which].url, which === 'baseline' ? baselineDir : build.distDir, kind === 'wasm' ? 'wasm' : null, image);
        got[which].push(r);
        console.log(
          `${which.padEnd(8)} ${i + 1}/${runs} (${r.backend}): model ready ${r.modelReadyMs?.toFixed(0)} ms, first prediction shown ${r.firstPredictionShownMs.toFixed(0)} ms`,
        );
      }
    }
  } finally {
    await browser.close();
    await sites.baseline.close();
    await sites.current.close();
  }
  const summary = (rs: ColdStartRun[]) => ({
    firstPredictionShownMs: median(rs.map((r) => r.firstPredictionShownMs)),
    modelReadyMs: median(rs.map((r) => r.modelReadyMs ?? NaN).filter(Number.isFinite)),
    fileGivenMs: median(rs.map((r) => r.fileGivenMs ?? NaN).filter(Number.isFinite)),
  });
  const b = summary(got.baseline);
  const c = summary(got.current);
  const result = {
    tool: 'bench/cold-compare.ts',
    date: new Date().toISOString(),
    baseline: baselineDir,
    backend: kind,
    runs,
    loadAverage: { start: load0.map((v) => Number(v.toFixed(2))), end: os.loadavg().map((v) => Number(v.toFixed(2))) },
    cpus: os.cpus().length,
    median: { baseline: b, current: c },
    ratio: { firstPredictionShown: c.firstPredictionShownMs / b.firstPredictionShownMs, modelReady: c.modelReadyMs / b.modelReadyMs },
    runsDetail: got,
  };
  const out = path.resolve(optString(args, 'out', path.join(REPO_ROOT, 'bench/results', `${result.date.slice(0, 10)}-cold-compare.json`)));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  console.log(
    `wrote ${path.relative(REPO_ROOT, out)}; load average ${result.loadAverage.start.join(' ')} → ${result.loadAverage.end.join(' ')} on ${result.cpus} CPUs`,
  );
  console.log(
    `cold-start ${kind}: baseline ${b.firstPredictionShownMs.toFixed(0)} ms, current ${c.firstPredictionShownMs.toFixed(0)} ms first prediction (ratio ${result.ratio.firstPredictionShown.toFixed(2)}); ` +
      `model ready ${b.modelReadyMs.toFixed(0)} → ${c.modelReadyMs.toFixed(0)} ms (ratio ${result.ratio.modelReady.toFixed(2)})`,
  );
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(`error: ${e.message}`);
    process.exit(1);
  },
);
