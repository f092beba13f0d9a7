// npm run evaluate:shift -- [--parts acquisition,probe,lso,ranking] [--model public/model] [--out file.json]
//
// Source-shift evaluation (a benchmark, not a CI test): does the model read lungs or hospitals?
//   acquisition  the test split re-acquired by each fixed variant of src/image/acquisition.ts (lower
//                contrast, low-resolution JPEG exports, gamma, sharpen/blur, rotation, lines, corner
//                markers, crop margins): accuracy, its change against the untouched split, covid
//                sensitivity at the stored operating point, and the OOD flag rate, per variant.
//   probe        a linear probe (src/core/probe.ts) on the embedding, trained on train-split
//                embeddings to predict source_repo WITHIN one class, scored (balanced accuracy) on the
//                test split: source information the model does not need (lower is better).
//   lso          leave-source-out: for each major source group, train the recipe (shortened:
//                --lso-epochs × --lso-epoch-size) without that group (train and val), then classify
//                every film of the held-out group: sensitivity of its label and what it was called.
//   ranking      the shortened recipe for v1 and v2 on all data, scored like the full models, to show
//                whether the short runs rank recipes as the full runs do.
// Writes JSON (default bench/results/shift-<date>.json and, for the default model, public/model/shift.json
// for the Model card) and prints Markdown tables. Everything is seeded.
import fs from 'node:fs';
import path from 'node:path';
import { runIfMain, UsageError } from './lib/cli';
import { parseArgs, optNumber, optString } from './lib/args';
import { REPO_ROOT, SHARED_DATA, logErr } from './lib/node-io';
import { commandLine, displayPath, gitCommit, loadModel, predictImages, progressLogger, stratifiedSubset, stringifyReport } from './lib/evaluation';
import type { LoadedImage } from './lib/dataset';
import { argmax, sensitivitySpecificityAt } from '../src/core/metrics';
import { createRng } from '../src/core/random';
import { cxrAgeGroup } from '../src/core/report';
import { balancedAccuracy, trainLinearProbe } from '../src/core/probe';
import { ACQUISITION_VARIANTS } from '../src/image/acquisition';
import { grayAsDecoded, preprocessGray } from '../src/image/preprocess';
import { prepareImage } from '../src/image/pipeline';
import type { Classifier } from '../src/ml/classifier';
import { COVID_CLASS } from '../src/core/labels';

const DEFAULT_MODEL_DIR = path.join(REPO_ROOT, 'public/model');
const PARTS = ['acquisition', 'probe', 'lso', 'ranking'] as const;
type Part = (typeof PARTS)[number];

export const EVALUATE_SHIFT_USAGE = `usage: npm run evaluate:shift -- [--parts acquisition,probe,lso,ranking] [--model <dir>] [--data <dir>] [--out file.json]
        [--limit N] [--lso-epochs 6] [--lso-epoch-size 1200] [--lso-eval 400] [--lso-groups id,id] [--seed 20261123]
  --parts           which measurements (default acquisition,probe; lso and ranking train models: ~5 min each)
  --limit           acquisition/probe: a seeded class-stratified subset of N test images (default all)
  --lso-epochs      epochs of each shortened leave-source-out run (default 6)
  --lso-epoch-size  images per epoch of those runs (default 1200)
  --lso-eval        held-out films classified per group and label, at most (default 400)
  --lso-groups      only these group ids (default all)
  --recipe          recipe of the leave-source-out runs (default v2; v1 = the previous recipe)
  --write-model     also write <model>/shift.json (merged with what is there: the Model card reads it) and
                    a summary into <model>/metadata.json (training.shift)`;

interface VariantResult {
  id: string;
  description: string;
  n: number;
  accuracy: number;
  deltaPoints: number;
  balancedAccuracy: number;
  covidSensitivity: number | null;
  oodRate: number | null;
}

interface ModelScore {
  accuracy: number;
  balancedAccuracy: number;
  covidSensitivity: number | null;
  oodRate: number | null;
}

function score(classifier: Classifier, labels: number[], probabilities: number[][], oodFlagged: (boolean | null)[]): ModelScore {
  const classes = classifier.metadata.classNames.length;
  const pred = probabilities.map((p) => argmax(p));
  const covid = classifier.metadata.classNames.indexOf(COVID_CLASS);
  const threshold = classifier.metadata.trust?.covidThreshold?.threshold;
  const covidSensitivity =
    covid >= 0 && labels.includes(covid)
      ? threshold !== undefined
        ? sensitivitySpecificityAt(
            probabilities.map((p) => p[covid]),
            labels.map((l) => l === covid),
            threshold,
          ).sensitivity
        : pred.filter((p, i) => labels[i] === covid && p === covid).length / labels.filter((l) => l === covid).length
      : null;
  const flagged = oodFlagged.filter((f) => f !== null);
  return {
    accuracy: pred.filter((p, i) => p === labels[i]).length / labels.length,
    balancedAccuracy: balancedAccuracy(labels, pred, classes),
    covidSensitivity: covidSensitivity ?? null,
    oodRate: flagged.length ? flagged.filter(Boolean).length / flagged.length : null,
  };
}

async function classify(classifier: Classifier, images: LoadedImage[], label: string) {
  const spec = classifier.metadata.preprocessing;
  return predictImages(
    classifier,
    images,
    (im) => prepareImage(grayAsDecoded(im.gray), spec, { layoutTemplate: classifier.layoutTemplate }),
    32,
    progressLogger(images.length, label),
  );
}

/** The acquisition-shift table for one model on `images`. */
export interface AgeTargets {
  adultPneumonia: { n: number; sensitivity: number | null };
  adultNormal: { n: number; notCalledCovid: number | null; notCovidAtOperatingPoint: number | null };
  covidAtOperatingPoint: { sensitivity: number | null; ppv: number | null };
}

/** The issue's age-group targets on one set of predictions: adult pneumonia found, adult normals not called covid. */
export function ageTargets(classifier: Classifier, images: LoadedImage[], probabilities: number[][]): AgeTargets {
  const names = classifier.metadata.classNames;
  const covid = names.indexOf(COVID_CLASS);
  const t = classifier.metadata.trust?.covidThreshold?.threshold;
  const age = (im: LoadedImage) => cxrAgeGroup(im.entry.sourceRepo, im.entry.label, im.entry.extra.age_group);
  const idx = (label: string) => images.map((im, i) => (im.entry.label === label && age(im) === 'adult' ? i : -1)).filter((i) => i >= 0);
  const share = (is: number[], f: (i: number) => boolean) => (is.length ? is.filter(f).length / is.length : null);
  const pn = idx('pneumonia');
  const no = idx('normal');
  const positives = images.map((im, i) => (im.entry.labelIndex === covid ? i : -1)).filter((i) => i >= 0);
  const called = t === undefined ? [] : probabilities.map((p, i) => (p[covid] >= t ? i : -1)).filter((i) => i >= 0);
  return {
    adultPneumonia: { n: pn.length, sensitivity: share(pn, (i) => names[argmax(probabilities[i])] === 'pneumonia') },
    adultNormal: {
      n: no.length,
      notCalledCovid: share(no, (i) => argmax(probabilities[i]) !== covid),
      notCovidAtOperatingPoint: t === undefined ? null : share(no, (i) => probabilities[i][covid] < t),
    },
    covidAtOperatingPoint: {
      sensitivity: t === undefined ? null : share(positives, (i) => probabilities[i][covid] >= t),
      ppv: called.length ? called.filter((i) => images[i].entry.labelIndex === covid).length / called.length : null,
    },
  };
}

export async function acquisitionShift(
  classifier: Classifier,
  images: LoadedImage[],
): Promise<{ untouched: ModelScore; targets: AgeTargets; variants: VariantResult[] }> {
  const labels = images.map((im) => im.entry.labelIndex);
  const base = await classify(classifier, images, 'untouched');
  const untouched = score(classifier, labels, base.probabilities, base.oodFlagged);
  const targets = ageTargets(classifier, images, base.probabilities);
  const variants: VariantResult[] = [];
  for (const v of ACQUISITION_VARIANTS) {
    const shifted = images.map((im, i) => ({ ...im, gray: v.apply(im.gray, i + 1) }));
    const r = await classify(classifier, shifted, v.id);
    const s = score(classifier, labels, r.probabilities, r.oodFlagged);
    variants.push({ id: v.id, description: v.description, n: images.length, ...s, deltaPoints: 100 * (s.accuracy - untouched.accuracy) });
  }
  return { untouched, targets, variants };
}

interface ProbeResult {
  label: string;
  sources: { source: string; train: number; test: number }[];
  balancedAccuracy: number;
  chance: number;
}

/** Linear probes for source_repo within each class and age group (sources with ≥ 20 train and ≥ 5 test films). */
export async function sourceProbe(classifier: Classifier, train: LoadedImage[], test: LoadedImage[]): Promise<ProbeResult[]> {
  const spec = classifier.metadata.preprocessing;
  const embed = async (images: LoadedImage[], label: string) => {
    const out: Float32Array[] = [];
    const progress = progressLogger(images.length, label);
    for (let i = 0; i < images.length; i += 32) {
      const { embeddings } = await classifier.predict(images.slice(i, i + 32).map((im) => preprocessGray(im.gray, spec)));
      out.push(...embeddings);
      progress(Math.min(images.length, i + 32));
    }
    return out;
  };
  const trE = await embed(train, 'probe: train embeddings');
  const teE = await embed(test, 'probe: test embeddings');
  const results: ProbeResult[] = [];
  // Within a class AND an age group: adult vs child is anatomy, not hospital, so it is kept apart.
  const age = (im: LoadedImage) => cxrAgeGroup(im.entry.sourceRepo, im.entry.label, im.entry.extra.age_group);
  const strata = classifier.metadata.classNames.flatMap((label, c) => (['adult', 'pediatric', 'unknown'] as const).map((a) => ({ label, c, a })));
  for (const { label: className, c, a } of strata) {
    const label = `${className} (${a})`;
    const inStratum = (im: LoadedImage) => im.entry.labelIndex === c && age(im) === a;
    const count = (set: LoadedImage[], s: string) => set.filter((im) => inStratum(im) && (im.entry.sourceRepo ?? '') === s).length;
    const sources = [...new Set(train.filter(inStratum).map((im) => im.entry.sourceRepo ?? ''))]
      .filter((s) => s && count(train, s) >= 20 && count(test, s) >= 5)
      .sort();
    if (sources.length < 2) continue;
    const pick = (set: LoadedImage[], emb: Float32Array[]) => {
      const xs: Float32Array[] = [];
      const ys: number[] = [];
      set.forEach((im, i) => {
        const k = sources.indexOf(im.entry.sourceRepo ?? '');
        if (inStratum(im) && k >= 0) {
          xs.push(emb[i]);
          ys.push(k);
        }
      });
      return { xs, ys };
    };
    const tr = pick(train, trE);
    const te = pick(test, teE);
    const probe = trainLinearProbe(tr.xs, tr.ys, sources.length);
    results.push({
      label,
      sources: sources.map((s) => ({ source: s, train: count(train, s), test: count(test, s) })),
      balancedAccuracy: balancedAccuracy(
        te.ys,
        te.xs.map((x) => probe.predict(x)),
        sources.length,
      ),
      chance: 1 / sources.length,
    });
  }
  return results;
}

export interface LsoGroup {
  id: string;
  description: string;
  sources: string[];
}

/** Source groups held out one at a time: covid sources with ≥ 60 films, the adult-normal sources, all pediatric sources together. */
export function lsoGroups(images: LoadedImage[]): LsoGroup[] {
  const bySource = new Map<string, LoadedImage[]>();
  for (const im of images) {
    const s = im.entry.sourceRepo ?? '';
    if (!bySource.has(s)) bySource.set(s, []);
    bySource.get(s)!.push(im);
  }
  const groups: LsoGroup[] = [];
  const short = (s: string) => s.split('/')[1] ?? s;
  for (const [s, ims] of [...bySource].sort()) {
    const covid = ims.filter((im) => im.entry.label === COVID_CLASS).length;
    if (covid >= 60) groups.push({ id: `covid-${short(s)}`, description: `${s} (${covid} covid films; the whole source held out)`, sources: [s] });
  }
  for (const [s, ims] of [...bySource].sort()) {
    const adultNormal = ims.filter((im) => im.entry.label === 'normal' && cxrAgeGroup(s, 'normal', im.entry.extra.age_group) === 'adult').length;
    if (adultNormal >= 60 && !groups.some((g) => g.sources.includes(s)))
      groups.push({ id: `adult-${short(s)}`, description: `${s} (${adultNormal} adult normal films; the whole source held out)`, sources: [s] });
  }
  const pediatric = [...bySource]
    .filter(([s, ims]) => ims.some((im) => cxrAgeGroup(s, im.entry.label, im.entry.extra.age_group) === 'pediatric'))
    .map(([s]) => s);
  if (pediatric.length)
    groups.push({
      id: 'pediatric-all',
      description: `every pediatric (Kermany/Guangzhou) repository: ${pediatric.map(short).join(', ')}`,
      sources: pediatric.sort(),
    });
  return groups;
}

interface LsoResult {
  group: LsoGroup;
  trainSeconds: number;
  perLabel: { label: string; n: number; sensitivity: number; covidSensitivityAtOperatingPoint?: number | null; calledAs: Record<string, number> }[];
  /** The same short model on the test split of the remaining sources. */
  remainingTest: ModelScore;
}

/**
 * A model in `dir` trained by trainShort with exactly these settings (from its metadata) is reused
 * instead of retrained: the training is seeded, so it would come out bit-identical.
 */
function reusable(dir: string, epochs: number, epochSize: number, recipe: string, exclude: string[], seed: number, dataKey: string): boolean {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'metadata.json'), 'utf8')) as {
      training?: { seed?: number; dataContentKey?: string; hyperparameters?: Record<string, unknown> };
    };
    const h = m.training?.hyperparameters ?? {};
    const same =
      fs.existsSync(path.join(dir, 'weights.bin')) &&
      // Trained on these very images (folder, manifest, and each file's size and time), not just the same settings.
      m.training?.dataContentKey === dataKey &&
      m.training?.seed === seed &&
      h.maxEpochs === epochs &&
      h.epochSize === epochSize &&
      h.recipeName === recipe &&
      JSON.stringify(h.excludeSources) === JSON.stringify(exclude);
    if (same) logErr(`reusing ${displayPath(dir)} (same data, seed, recipe, epochs and held-out sources)`);
    return same;
  } catch {
    return false;
  }
}

async function trainShort(
  outDir: string,
  seed: number,
  epochs: number,
  epochSize: number,
  recipe: string,
  exclude: string[],
  dataDir: string,
): Promise<number> {
  const { main: trainMain } = await import('./train');
  const t0 = performance.now();
  const argv = [
    '--data',
    dataDir,
    '--out',
    outDir,
    '--seed',
    String(seed),
    '--epochs',
    String(epochs),
    '--epoch-size',
    String(epochSize),
    '--patience',
    String(epochs),
    '--recipe',
    recipe,
    '--no-ood',
    '--no-evaluate',
  ];
  if (exclude.length) argv.push('--exclude-sources', exclude.join(','));
  const code = await trainMain(argv);
  if (code !== 0) throw new Error(`training ${outDir} failed (exit ${code})`);
  return (performance.now() - t0) / 1000;
}

export async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv, {
    usage: EVALUATE_SHIFT_USAGE,
    options: {
      parts: 'string',
      model: 'string',
      data: 'string',
      out: 'string',
      limit: 'number',
      seed: 'number',
      'lso-epochs': 'number',
      'lso-epoch-size': 'number',
      'lso-eval': 'number',
      'lso-groups': 'string',
      recipe: 'string',
      'write-model': 'flag',
    },
  });
  const parts = optString(args, 'parts', 'acquisition,probe')
    .split(',')
    .map((p) => p.trim()) as Part[];
  for (const p of parts) if (!PARTS.includes(p)) throw new UsageError(`unknown part '${p}' (parts: ${PARTS.join(', ')})`, EVALUATE_SHIFT_USAGE);
  const dataDir = path.resolve(optString(args, 'data', path.join(SHARED_DATA, 'cxr')));
  if (!fs.existsSync(path.join(dataDir, 'manifest.csv'))) {
    logErr(`evaluate:shift skipped: no data at ${dataDir} (expected manifest.csv; pass --data <dir>)`);
    return 2;
  }
  const modelDir = path.resolve(optString(args, 'model', DEFAULT_MODEL_DIR));
  const limit = Math.max(0, Math.floor(optNumber(args, 'limit', 0)));
  const seed = optNumber(args, 'seed', 20261123);
  const lsoEpochs = optNumber(args, 'lso-epochs', 6);
  const lsoEpochSize = optNumber(args, 'lso-epoch-size', 1200);
  const lsoEval = optNumber(args, 'lso-eval', 400);
  const recipe = optString(args, 'recipe', 'v2');
  const onlyGroups = optString(args, 'lso-groups', '').split(',').filter(Boolean);
  const date = new Date().toISOString().slice(0, 10);
  const outFile = path.resolve(optString(args, 'out', path.join(REPO_ROOT, 'bench/results', `shift-${date}.json`)));

  const { initNodeBackend } = await import('../src/ml/tf-node');
  const { loadDataset } = await import('./lib/dataset');
  await initNodeBackend('wasm');
  const classifier = await loadModel(modelDir);
  const classNames = classifier.metadata.classNames;
  const all = await loadDataset(dataDir, { labels: classNames });
  const test = stratifiedSubset(
    all.images.filter((im) => im.entry.split === 'test'),
    limit,
    classNames.length,
    0,
  );
  const train = all.images.filter((im) => im.entry.split === 'train');

  const json: Record<string, unknown> = {
    meta: {
      tool: 'scripts/evaluate-shift.ts',
      command: commandLine('scripts/evaluate-shift.ts', argv),
      date: new Date().toISOString(),
      gitCommit: gitCommit(),
      model: {
        dir: displayPath(modelDir),
        name: classifier.metadata.name,
        version: classifier.metadata.version,
        recipe: classifier.metadata.training?.recipe ?? null,
      },
      data: { dir: displayPath(dataDir), manifestHash: all.manifestHash, testImages: test.length },
    },
  };
  const md: string[] = [];
  const pct = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? '—' : `${(100 * v).toFixed(1)} %`);

  if (parts.includes('acquisition')) {
    const r = await acquisitionShift(classifier, test);
    json.acquisition = r;
    md.push(
      `Acquisition shift (${displayPath(modelDir)}, test split, ${test.length} films)`,
      '',
      '| variant | accuracy | change | balanced acc. | covid sens. @ op. point | OOD flagged |',
      '|---|---:|---:|---:|---:|---:|',
    );
    md.push(
      `| untouched | ${pct(r.untouched.accuracy)} | | ${pct(r.untouched.balancedAccuracy)} | ${pct(r.untouched.covidSensitivity)} | ${pct(r.untouched.oodRate)} |`,
    );
    for (const v of r.variants)
      md.push(
        `| ${v.id} | ${pct(v.accuracy)} | ${v.deltaPoints >= 0 ? '+' : ''}${v.deltaPoints.toFixed(1)} | ${pct(v.balancedAccuracy)} | ${pct(v.covidSensitivity)} | ${pct(v.oodRate)} |`,
      );
    const worst = Math.min(...r.variants.map((v) => v.deltaPoints));
    md.push('', `worst change ${worst.toFixed(1)} points; largest OOD rate ${pct(Math.max(...r.variants.map((v) => v.oodRate ?? 0)))}`, '');
    const t = r.targets;
    md.push(
      `untouched test split: adult pneumonia sensitivity ${pct(t.adultPneumonia.sensitivity)} (${t.adultPneumonia.n} films); adult normals not called covid ${pct(t.adultNormal.notCalledCovid)} at the argmax, ${pct(t.adultNormal.notCovidAtOperatingPoint)} at the covid operating point (${t.adultNormal.n} films); covid at the operating point: sensitivity ${pct(t.covidAtOperatingPoint.sensitivity)}, PPV ${pct(t.covidAtOperatingPoint.ppv)}`,
      '',
    );
  }
  if (parts.includes('probe')) {
    const r = await sourceProbe(classifier, train, test);
    json.probe = r;
    md.push(
      'Source probe (linear, embedding → source_repo within a class and age group; train → test; lower is better)',
      '',
      '| class (age group) | sources (train/test films) | balanced accuracy | chance |',
      '|---|---|---:|---:|',
    );
    for (const p of r)
      md.push(`| ${p.label} | ${p.sources.map((s) => `${s.source} (${s.train}/${s.test})`).join('; ')} | ${pct(p.balancedAccuracy)} | ${pct(p.chance)} |`);
    md.push('');
  }
  classifier.dispose();

  if (parts.includes('lso')) {
    const groups = lsoGroups(all.images).filter((g) => onlyGroups.length === 0 || onlyGroups.includes(g.id));
    const { selectionContentKey, trainingDataKey } = await import('./lib/dataset');
    const trainingKey = trainingDataKey(selectionContentKey(dataDir, ['train'], classNames), selectionContentKey(dataDir, ['val'], classNames));
    const results: LsoResult[] = [];
    for (const group of groups) {
      logErr(`leave-source-out: ${group.id} — ${group.description}`);
      const dir = path.join(REPO_ROOT, '.cache/shift', `lso-${recipe}-${group.id}`);
      const trainSeconds = reusable(dir, lsoEpochs, lsoEpochSize, recipe, group.sources, seed, trainingKey)
        ? 0
        : await trainShort(dir, seed, lsoEpochs, lsoEpochSize, recipe, group.sources, dataDir);
      const m = await loadModel(dir);
      const held = all.images.filter((im) => group.sources.includes(im.entry.sourceRepo ?? ''));
      const perLabel: LsoResult['perLabel'] = [];
      for (const [c, label] of classNames.entries()) {
        const ofLabel = held.filter((im) => im.entry.labelIndex === c);
        const ims = ofLabel.length > lsoEval ? createRng(seed).shuffle(ofLabel).slice(0, lsoEval) : ofLabel;
        if (ims.length < 20) continue;
        const r = await classify(m, ims, `${group.id}: held-out ${label}`);
        const pred = r.probabilities.map((p) => argmax(p));
        const calledAs: Record<string, number> = {};
        for (const p of pred) calledAs[classNames[p]] = (calledAs[classNames[p]] ?? 0) + 1;
        const covid = classNames.indexOf(COVID_CLASS);
        const t = m.metadata.trust?.covidThreshold?.threshold;
        perLabel.push({
          label,
          n: ims.length,
          sensitivity: pred.filter((p) => p === c).length / ims.length,
          ...(c === covid && t !== undefined ? { covidSensitivityAtOperatingPoint: r.probabilities.filter((p) => p[covid] >= t).length / ims.length } : {}),
          calledAs,
        });
      }
      const rest = test.filter((im) => !group.sources.includes(im.entry.sourceRepo ?? ''));
      const rr = await classify(m, rest, `${group.id}: remaining test`);
      const remainingTest = score(
        m,
        rest.map((im) => im.entry.labelIndex),
        rr.probabilities,
        rr.oodFlagged,
      );
      m.dispose();
      results.push({ group, trainSeconds, perLabel, remainingTest });
    }
    json.lso = { recipe, epochs: lsoEpochs, epochSize: lsoEpochSize, seed, results };
    md.push(
      `Leave-source-out (recipe ${recipe}, ${lsoEpochs} epochs × ${lsoEpochSize} films; held-out films never seen in train or val)`,
      '',
      '| held-out group | label | films | sensitivity | covid sens. @ op. point | called as | accuracy on the remaining test split |',
      '|---|---|---:|---:|---:|---|---:|',
    );
    for (const r of results) {
      for (const l of r.perLabel) {
        md.push(
          `| ${r.group.id} | ${l.label} | ${l.n} | ${pct(l.sensitivity)} | ${l.covidSensitivityAtOperatingPoint === undefined ? '' : pct(l.covidSensitivityAtOperatingPoint)} | ${Object.entries(
            l.calledAs,
          )
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')} | ${pct(r.remainingTest.accuracy)} |`,
        );
      }
    }
    md.push('');
  }

  if (parts.includes('ranking')) {
    const rows: { recipe: string; run: string; test: ModelScore; meanAbsShiftPoints: number; worstShiftPoints: number }[] = [];
    for (const r of ['v1', 'v2']) {
      const dir = path.join(REPO_ROOT, '.cache/shift', `short-${r}`);
      await trainShort(dir, seed, lsoEpochs, lsoEpochSize, r, [], dataDir);
      const m = await loadModel(dir);
      const a = await acquisitionShift(m, test);
      rows.push({
        recipe: r,
        run: `short (${lsoEpochs} × ${lsoEpochSize})`,
        test: a.untouched,
        meanAbsShiftPoints: mean(a.variants.map((v) => Math.abs(v.deltaPoints))),
        worstShiftPoints: Math.min(...a.variants.map((v) => v.deltaPoints)),
      });
      m.dispose();
    }
    json.ranking = rows;
    md.push(
      'Short-run recipe ranking (same seed, all sources)',
      '',
      '| recipe | run | test accuracy | balanced acc. | mean abs. acquisition change | worst change |',
      '|---|---|---:|---:|---:|---:|',
    );
    for (const r of rows)
      md.push(
        `| ${r.recipe} | ${r.run} | ${pct(r.test.accuracy)} | ${pct(r.test.balancedAccuracy)} | ${r.meanAbsShiftPoints.toFixed(1)} | ${r.worstShiftPoints.toFixed(1)} |`,
      );
    md.push('');
  }

  json.markdown = md.join('\n');
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, stringifyReport(json) + '\n');
  logErr(`wrote ${displayPath(outFile)}`);
  if (args.options.has('write-model')) {
    // The Model card reads <model>/shift.json; metadata.json keeps a summary (training.shift).
    const prev = fs.existsSync(path.join(modelDir, 'shift.json'))
      ? (JSON.parse(fs.readFileSync(path.join(modelDir, 'shift.json'), 'utf8')) as Record<string, unknown>)
      : {};
    // Each part keeps the run that produced it (parts can be measured by separate invocations).
    const runs = { ...((prev.runs as Record<string, unknown> | undefined) ?? {}), ...Object.fromEntries(parts.map((p) => [p, json.meta])) };
    const merged: Record<string, unknown> = { ...prev, ...json, runs };
    delete merged.markdown;
    fs.writeFileSync(path.join(modelDir, 'shift.json'), stringifyReport(merged) + '\n');
    const metaFile = path.join(modelDir, 'metadata.json');
    const raw = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as { training?: Record<string, unknown> };
    raw.training = { ...(raw.training ?? {}), shift: shiftSummary(merged) };
    fs.writeFileSync(metaFile, JSON.stringify(raw, null, 2) + '\n');
    logErr(`wrote ${displayPath(path.join(modelDir, 'shift.json'))} and training.shift in metadata.json`);
  }
  process.stdout.write(md.join('\n') + '\n');
  return 0;
}

/** The compact summary kept in metadata.json (training.shift). */
export function shiftSummary(json: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { tool: 'scripts/evaluate-shift.ts', date: (json.meta as { date?: string } | undefined)?.date };
  const acq = json.acquisition as { untouched: ModelScore; variants: VariantResult[] } | undefined;
  if (acq) {
    out.acquisition = {
      untouchedAccuracy: acq.untouched.accuracy,
      worstChangePoints: Math.min(...acq.variants.map((v) => v.deltaPoints)),
      worstVariant: [...acq.variants].sort((a, b) => a.deltaPoints - b.deltaPoints)[0]?.id,
      maxOodRate: Math.max(...acq.variants.map((v) => v.oodRate ?? 0)),
      perVariant: Object.fromEntries(acq.variants.map((v) => [v.id, { deltaPoints: Number(v.deltaPoints.toFixed(2)), oodRate: v.oodRate }])),
    };
  }
  const lso = json.lso as { recipe: string; epochs: number; epochSize: number; results: LsoResult[] } | undefined;
  if (lso) {
    out.leaveSourceOut = {
      recipe: lso.recipe,
      run: `${lso.epochs} epochs × ${lso.epochSize}`,
      sensitivity: Object.fromEntries(lso.results.flatMap((r) => r.perLabel.map((l) => [`${r.group.id}/${l.label}`, Number(l.sensitivity.toFixed(4))]))),
    };
  }
  const probe = json.probe as ProbeResult[] | undefined;
  if (probe) out.sourceProbe = Object.fromEntries(probe.map((p) => [p.label, { balancedAccuracy: Number(p.balancedAccuracy.toFixed(4)), chance: p.chance }]));
  return out;
}

function mean(xs: number[]): number {
  return xs.reduce((s, x) => s + x, 0) / (xs.length || 1);
}

runIfMain(import.meta.url, main);
