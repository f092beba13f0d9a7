// npm run train: trains the CXR Lab classifier from scratch on the `train` split of
// ../shared/data/cxr, selects the epoch on `val`, calibrates on `val`, writes public/model
// (model.json + weights + metadata.json), then, in the same process, fits the OOD detector
// (scripts/fit-ood.ts), evaluates on `test` (metrics.json) and runs the shortcut audit (audit.json).
// Seeded: the same seed, data and backend give the same model (tests/unit/source-shift.test.ts).
import fs from 'node:fs';
import path from 'node:path';
import { execSync } from 'node:child_process';
import type * as tfTypes from '@tensorflow/tfjs';
import { runIfMain, UsageError } from './lib/cli';
import { cxrAgeGroup } from '../src/core/report';
import { initNodeBackend } from '../src/ml/tf-node';
import { buildClassifier, DEFAULT_MODEL_CONFIG, V1_MODEL_CONFIG, LAYER_NAMES, type ModelConfig } from '../src/ml/model';
import { DEFAULT_PREPROCESSING, grayAsDecoded } from '../src/image/preprocess';
import { prepareImage } from '../src/image/pipeline';
import { DEFAULT_AUGMENT, SOURCE_INVARIANT_AUGMENT, BASE_MARGIN, augmentToInput } from '../src/image/augment';
import { balancedWeights, stratifiedSourceWeights, learningRateAt, oneHotSmoothed, sampleIndices, setLearningRate, stackInputs } from '../src/ml/training';
import { serializeModel } from '../src/ml/io';
import { createRng } from '../src/core/random';
import { CXR_CLASSES } from '../src/core/labels';
import { oneVsRestAuc, softmax, argmax } from '../src/core/metrics';
import { fitCalibration } from '../src/core/operating-point';
import type { ModelMetadata, PreprocessingSpec } from '../src/core/metadata';
import { loadDataset, trainingDataKey } from './lib/dataset';
import { parseArgs, optNumber, optString, type ParsedArgs } from './lib/args';
import { REPO_ROOT, SHARED_DATA } from './lib/node-io';

export const TRAIN_USAGE = `usage: npm run train [-- --data <dir>] [--out <dir>] [--seed 20261123] [--recipe v2|v1] [--epochs 24] [--epoch-size 1600]
                     [--batch 16] [--lr 2e-3] [--patience 6] [--max-minutes 58] [--label-smoothing 0.05] [--limit N]
                     [--size 112] [--crop F] [--equalize histogram|none] [--stages JSON] [--dropout F] [--augment JSON]
                     [--source-power 0.5] [--exclude-sources a,b] [--quantize float16|uint8|none] [--backend wasm|cpu]
                     [--threads N] [--no-ood] [--no-evaluate] [--no-audit] [--no-cache]
  --data       folder holding manifest.csv with train and val splits (default ../shared/data/cxr)
  --out        model folder to write (default public/model)
  --recipe     v2 (default) or v1, the previous shipped recipe (for comparisons)
  --limit      a seeded subset of N training images (development only)
  --no-ood / --no-evaluate / --no-audit   skip the OOD fit / the test-split evaluation / the shortcut audit`;

function oneOf<T extends string>(option: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${option} must be ${allowed.join(', ')}, not '${value}'`, TRAIN_USAGE);
  return value as T;
}

/** The options of a run, parsed and checked (UsageError with the usage on bad input). */
export function trainOptions(argv: string[]) {
  const args = parseArgs(argv, {
    usage: TRAIN_USAGE,
    options: {
      data: 'string',
      out: 'string',
      seed: 'number',
      epochs: 'number',
      batch: 'number',
      lr: 'number',
      patience: 'number',
      'max-minutes': 'number',
      limit: 'number',
      'label-smoothing': 'number',
      quantize: 'string',
      backend: 'string',
      recipe: 'string',
      size: 'number',
      crop: 'number',
      equalize: 'string',
      stages: 'string',
      dropout: 'number',
      augment: 'string',
      'epoch-size': 'number',
      'source-power': 'number',
      threads: 'number',
      'exclude-sources': 'string',
      'no-evaluate': 'flag',
      'no-cache': 'flag',
      'no-ood': 'flag',
      'no-audit': 'flag',
    },
  });
  const dataDir = path.resolve(optString(args, 'data', path.join(SHARED_DATA, 'cxr')));
  const outDir = path.resolve(optString(args, 'out', path.join(REPO_ROOT, 'public/model')));
  const seed = optNumber(args, 'seed', 20261123);
  const maxEpochs = optNumber(args, 'epochs', 24);
  const batchSize = optNumber(args, 'batch', 16);
  const peakLr = optNumber(args, 'lr', 2e-3);
  const patience = optNumber(args, 'patience', 6);
  const maxMinutes = optNumber(args, 'max-minutes', 58);
  const limit = optNumber(args, 'limit', 0);
  const labelSmoothing = optNumber(args, 'label-smoothing', 0.05);
  const quantize = oneOf('quantize', optString(args, 'quantize', 'float16'), ['none', 'float16', 'uint8'] as const);
  const backend = oneOf('backend', optString(args, 'backend', 'wasm'), ['wasm', 'cpu'] as const);
  // --recipe v1 reproduces the previous shipped recipe (128 px v1 network, DEFAULT_AUGMENT, source-damped
  // sampling without age strata) for recipe comparisons in scripts/evaluate-shift.ts.
  const recipeName = optString(args, 'recipe', 'v2');
  oneOf('recipe', recipeName, ['v1', 'v2'] as const);
  const baseModel = recipeName === 'v1' ? V1_MODEL_CONFIG : DEFAULT_MODEL_CONFIG;
  const spec: PreprocessingSpec = {
    ...DEFAULT_PREPROCESSING,
    inputSize: optNumber(args, 'size', baseModel.inputSize),
    cropFraction: optNumber(args, 'crop', DEFAULT_PREPROCESSING.cropFraction),
    equalize: oneOf('equalize', optString(args, 'equalize', DEFAULT_PREPROCESSING.equalize), ['histogram', 'none'] as const),
  };
  const modelConfig: ModelConfig = {
    ...baseModel,
    inputSize: spec.inputSize,
    seed,
    ...(args.options.has('stages') ? { stages: JSON.parse(optString(args, 'stages', '[]')) } : {}),
    dropout: optNumber(args, 'dropout', baseModel.dropout),
  };
  const augment = {
    ...(recipeName === 'v1' ? DEFAULT_AUGMENT : SOURCE_INVARIANT_AUGMENT),
    ...(args.options.has('augment') ? JSON.parse(optString(args, 'augment', '{}')) : {}),
  };
  const epochSize = optNumber(args, 'epoch-size', limit > 0 ? 0 : 1600);
  const sourcePower = optNumber(args, 'source-power', 0.5);
  const threads = optNumber(args, 'threads', 0);
  // Leave-source-out runs (scripts/evaluate-shift.ts): drop every training/validation image of these sources.
  const excludeSources = new Set(
    optString(args, 'exclude-sources', '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );

  return {
    args,
    dataDir,
    outDir,
    seed,
    maxEpochs,
    batchSize,
    peakLr,
    patience,
    maxMinutes,
    limit,
    labelSmoothing,
    quantize,
    backend,
    recipeName,
    baseModel,
    spec,
    modelConfig,
    augment,
    epochSize,
    sourcePower,
    threads,
    excludeSources,
  };
}

export async function main(argv: string[]): Promise<number> {
  const {
    args,
    dataDir,
    outDir,
    seed,
    maxEpochs,
    batchSize,
    peakLr,
    patience,
    maxMinutes,
    limit,
    labelSmoothing,
    quantize,
    backend,
    recipeName,
    baseModel,
    spec,
    modelConfig,
    augment,
    epochSize,
    sourcePower,
    threads,
    excludeSources,
  } = trainOptions(argv);
  if (!fs.existsSync(path.join(dataDir, 'manifest.csv'))) throw new UsageError(`No data at ${dataDir} (expected manifest.csv). Pass --data <dir>.`);

  const tf = await initNodeBackend(backend, threads > 0 ? { threads } : {});
  const started = Date.now();
  const log = (s: string) => process.stdout.write(s + '\n');
  log(`backend ${tf.getBackend()}  seed ${seed}  input ${spec.inputSize}px crop ${spec.cropFraction} equalize ${spec.equalize}`);

  const classNames = [...CXR_CLASSES];
  const trainSet = await loadDataset(dataDir, { splits: ['train'], labels: classNames, cache: !args.options.has('no-cache') });
  const valSet = await loadDataset(dataDir, { splits: ['val'], labels: classNames, cache: !args.options.has('no-cache') });
  const excluded = (im: { entry: { sourceRepo?: string } }) => excludeSources.has(im.entry.sourceRepo ?? '');
  let trainImages = trainSet.images.filter((im) => !excluded(im));
  let valImages = valSet.images.filter((im) => !excluded(im));
  if (limit > 0) {
    // Small runs (tests, experiments): a seeded, class-stratified subset.
    const pick = <T extends { entry: { labelIndex: number } }>(items: T[], n: number) => {
      const rng = createRng(seed);
      const byClass = classNames.map((_, c) => rng.shuffle(items.filter((x) => x.entry.labelIndex === c)));
      const out: T[] = [];
      for (let i = 0; out.length < Math.min(n, items.length); i++) for (const cls of byClass) if (i < cls.length && out.length < n) out.push(cls[i]);
      return out;
    };
    trainImages = pick(trainImages, limit);
    valImages = pick(valImages, Math.max(12, Math.round(limit / 3)));
  }
  log(`train ${trainImages.length} images, val ${valImages.length} images (${((Date.now() - started) / 1000).toFixed(0)} s to load)`);

  const baseSize = Math.round(spec.inputSize * BASE_MARGIN);
  // The one pipeline: augmentation bases of the training films, model inputs of the validation films.
  const bases = trainImages.map((im) => prepareImage(grayAsDecoded(im.gray), spec, { augmentBaseSize: baseSize }).augmentBase!);
  const trainLabels = trainImages.map((im) => im.entry.labelIndex);
  // Class-balanced; within a class adult and pediatric films get equal shares; within those, sources damped.
  const strata = trainImages.map((im) => (cxrAgeGroup(im.entry.sourceRepo, im.entry.label, im.entry.extra.age_group) === 'pediatric' ? 'pediatric' : 'adult'));
  const sources = trainImages.map((im) => im.entry.sourceRepo ?? 'unknown');
  const weights =
    recipeName === 'v1'
      ? balancedWeights(trainLabels, sources, classNames.length, sourcePower)
      : stratifiedSourceWeights(trainLabels, strata, sources, classNames.length, sourcePower);
  const valInputs = valImages.map((im) => prepareImage(grayAsDecoded(im.gray), spec).input);
  const valLabels = valImages.map((im) => im.entry.labelIndex);

  const model = buildClassifier(modelConfig);
  const optimizer = tf.train.adam(peakLr);
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  log(`model ${model.name}: ${model.countParams()} parameters`);

  const perEpoch = epochSize > 0 ? epochSize : trainImages.length;
  const stepsPerEpoch = Math.max(1, Math.floor(perEpoch / batchSize));
  const totalSteps = stepsPerEpoch * maxEpochs;
  const warmup = Math.min(stepsPerEpoch, 200);
  const rng = createRng(seed + 1);
  const heads = tf.model({ inputs: model.inputs, outputs: model.getLayer(LAYER_NAMES.logits).output as tfTypes.SymbolicTensor });

  function valLogits(): number[][] {
    const out: number[][] = [];
    for (let i = 0; i < valInputs.length; i += 64) {
      const chunk = valInputs.slice(i, i + 64);
      const t = tf.tidy(() => heads.predict(stackInputs(chunk, spec.inputSize)) as tfTypes.Tensor);
      const data = t.dataSync();
      t.dispose();
      for (let j = 0; j < chunk.length; j++) out.push(Array.from(data.subarray(j * classNames.length, (j + 1) * classNames.length)));
    }
    return out;
  }

  interface EpochRecord {
    epoch: number;
    trainLoss: number;
    trainAcc: number;
    valLoss: number;
    valAcc: number;
    valMacroAuc: number;
    imagesPerSecond: number;
    seconds: number;
    lr: number;
  }
  const history: EpochRecord[] = [];
  let best: { epoch: number; valLoss: number; weights: tfTypes.Tensor[] } | null = null;
  let step = 0;
  let stopReason = `reached ${maxEpochs} epochs`;
  const trainStart = Date.now();
  for (let epoch = 1; epoch <= maxEpochs; epoch++) {
    const epochStart = Date.now();
    const order = sampleIndices(weights, stepsPerEpoch * batchSize, rng);
    let lossSum = 0;
    let accSum = 0;
    let lr = peakLr;
    for (let b = 0; b < stepsPerEpoch; b++) {
      const idx = order.slice(b * batchSize, (b + 1) * batchSize);
      lr = learningRateAt(step, totalSteps, peakLr, warmup);
      setLearningRate(optimizer, lr);
      const inputs = idx.map((i) => augmentToInput(bases[i], spec, augment, rng));
      const labels = idx.map((i) => trainLabels[i]);
      const x = stackInputs(inputs, spec.inputSize);
      const y = tf.tensor2d(oneHotSmoothed(labels, classNames.length, labelSmoothing), [labels.length, classNames.length]);
      const [loss, acc] = (await model.trainOnBatch(x, y)) as number[];
      x.dispose();
      y.dispose();
      lossSum += loss;
      accSum += acc;
      step++;
      if ((b + 1) % 25 === 0 || b === stepsPerEpoch - 1) {
        const secs = (Date.now() - epochStart) / 1000;
        const ips = ((b + 1) * batchSize) / secs;
        const remainingSteps = (maxEpochs - epoch) * stepsPerEpoch + (stepsPerEpoch - b - 1);
        const eta = Math.min((remainingSteps * batchSize) / ips, maxMinutes * 60 - (Date.now() - trainStart) / 1000);
        process.stderr.write(
          `\r  epoch ${epoch} batch ${b + 1}/${stepsPerEpoch} loss ${(lossSum / (b + 1)).toFixed(3)} acc ${(accSum / (b + 1)).toFixed(3)} ${ips.toFixed(1)} img/s ETA ${(eta / 60).toFixed(1)} min   `,
        );
      }
    }
    process.stderr.write('\n');
    const trainSeconds = (Date.now() - epochStart) / 1000;
    const logits = valLogits();
    const probs = logits.map((l) => softmax(l));
    const valLoss = -probs.reduce((s, p, i) => s + Math.log(Math.max(1e-7, p[valLabels[i]])), 0) / probs.length;
    const valAcc = probs.filter((p, i) => argmax(p) === valLabels[i]).length / probs.length;
    const valMacroAuc = oneVsRestAuc(probs, valLabels, classNames.length).macro ?? NaN;
    const rec: EpochRecord = {
      epoch,
      trainLoss: lossSum / stepsPerEpoch,
      trainAcc: accSum / stepsPerEpoch,
      valLoss,
      valAcc,
      valMacroAuc,
      imagesPerSecond: (stepsPerEpoch * batchSize) / trainSeconds,
      seconds: (Date.now() - epochStart) / 1000,
      lr,
    };
    history.push(rec);
    const elapsedMin = (Date.now() - trainStart) / 60000;
    const etaMin = Math.min((maxEpochs - epoch) * (rec.seconds / 60), maxMinutes - elapsedMin);
    log(
      `epoch ${String(epoch).padStart(2)}/${maxEpochs}  train loss ${rec.trainLoss.toFixed(4)} acc ${rec.trainAcc.toFixed(4)}  val loss ${valLoss.toFixed(4)} acc ${valAcc.toFixed(4)} macroAUC ${valMacroAuc.toFixed(4)}  ${rec.imagesPerSecond.toFixed(1)} img/s  ${rec.seconds.toFixed(0)} s  lr ${lr.toExponential(2)}  ETA ${Math.max(0, etaMin).toFixed(1)} min`,
    );
    if (!best || valLoss < best.valLoss) {
      best?.weights.forEach((w) => w.dispose());
      best = { epoch, valLoss, weights: model.getWeights().map((w) => w.clone()) };
    } else if (epoch - best.epoch >= patience) {
      stopReason = `early stop: val loss did not improve for ${patience} epochs`;
      break;
    }
    if (elapsedMin + rec.seconds / 60 > maxMinutes) {
      stopReason = `time budget of ${maxMinutes} min reached`;
      break;
    }
  }
  log(`${stopReason}; best epoch ${best!.epoch} (val loss ${best!.valLoss.toFixed(4)})`);
  model.setWeights(best!.weights);
  best!.weights.forEach((w) => w.dispose());
  const trainingSeconds = (Date.now() - started) / 1000;

  // Calibration on val: temperature scaling, then a covid operating point for a stated sensitivity
  // (the same fitCalibration the Train page uses for fine-tuned models).
  const calibration = fitCalibration(valLogits(), valLabels, classNames);
  const temperature = calibration.temperature;
  const op = calibration.covidThreshold;
  log(
    `temperature ${temperature.toFixed(3)}; covid threshold ${op ? `${op.threshold.toFixed(4)} → val sensitivity ${op.valSensitivity.toFixed(3)} specificity ${op.valSpecificity.toFixed(3)}` : 'none (no covid images in val)'}`,
  );

  let gitCommit = 'unknown';
  try {
    gitCommit = execSync('git rev-parse HEAD', { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    /* not a git checkout */
  }
  const metadata: ModelMetadata = {
    name: 'CXR Lab CNN',
    version: `${new Date().toISOString().slice(0, 10)}-${gitCommit.slice(0, 7)}`,
    task: 'Frontal chest X-ray classification: covid / normal / pneumonia (non-COVID). Research and education only; not for clinical use.',
    classNames,
    input: { shape: [1, spec.inputSize, spec.inputSize, 1], dtype: 'float32', layout: 'NHWC' },
    preprocessing: spec,
    layers: { embedding: LAYER_NAMES.embedding, lastConv: LAYER_NAMES.lastConv, logits: LAYER_NAMES.logits },
    uncertainBelow: 0.6,
    trust: {
      temperature,
      temperatureFit: calibration.temperatureFit,
      ...(op ? { covidThreshold: op } : {}),
    },
    training: {
      data: path.relative(REPO_ROOT, dataDir),
      dataRelease: dataRelease(dataDir),
      manifestHash: trainSet.manifestHash,
      dataContentKey: trainingDataKey(trainSet.contentKey, valSet.contentKey),
      recipe: recipeName === 'v1' ? 'v1 (previous recipe, for comparisons)' : RECIPE,
      gitCommit,
      date: new Date().toISOString(),
      seed,
      backend: tf.getBackend(),
      epochs: history.length,
      bestEpoch: best!.epoch,
      trainingSeconds,
      hyperparameters: {
        modelConfig,
        augment,
        batchSize,
        peakLr,
        schedule: 'warmup+cosine',
        optimizer: 'adam',
        labelSmoothing,
        patience,
        maxEpochs,
        maxMinutes,
        recipeName,
        sampling:
          recipeName === 'v1'
            ? `class-balanced, source-damped (n^-${sourcePower})`
            : `class-balanced; adult/pediatric strata equal within a class; sources damped (n^-${sourcePower})`,
        excludeSources: [...excludeSources],
        epochSize: perEpoch,
        limit,
        quantize,
        parameters: model.countParams(),
        trainImages: trainImages.length,
        valImages: valImages.length,
      },
      history: history.map((h) => ({ ...h })),
    },
    notes: [
      'Trained from scratch (no third-party pretrained weights) by `npm run train`.',
      'Most normal and pneumonia training films are pediatric and most covid films adult; see the data README and metrics.json (per source) before trusting any figure.',
    ],
  };

  // Save exactly what the browser loads (model.json + one weight shard + metadata.json).
  fs.mkdirSync(outDir, { recursive: true });
  for (const f of fs.readdirSync(outDir)) if (/^(model\.json|.*\.bin)$/.test(f)) fs.rmSync(path.join(outDir, f));
  const { modelJson, weights: weightBytes } = await serializeModel(model, quantize, 'weights.bin');
  fs.writeFileSync(path.join(outDir, 'model.json'), modelJson);
  fs.writeFileSync(path.join(outDir, 'weights.bin'), weightBytes);
  fs.writeFileSync(path.join(outDir, 'metadata.json'), JSON.stringify(metadata, null, 2) + '\n');
  // Perceptual hashes of the images just trained on (scripts/hashes.ts), so the app can say when an
  // input is (a copy of) a training image.
  const { buildTrainHashes, writeTrainHashes, TRAIN_HASHES_SOURCE } = await import('./hashes');
  const hashSource =
    limit > 0 || excludeSources.size > 0 ? `${TRAIN_HASHES_SOURCE} (the ${trainImages.length} images this run trained on)` : TRAIN_HASHES_SOURCE;
  writeTrainHashes(
    path.join(outDir, 'train-hashes.json'),
    buildTrainHashes(
      trainImages.map((im) => im.gray),
      spec,
      hashSource,
    ),
  );
  log(
    `wrote ${path.relative(REPO_ROOT, outDir)}: model.json + weights.bin (${(weightBytes.length / 1024).toFixed(0)} KiB, ${quantize}) + metadata.json + train-hashes.json in ${(trainingSeconds / 60).toFixed(1)} min`,
  );
  // `heads` shares its layers with `model`: disposing the model frees both.
  model.dispose();

  const code = await afterTraining(args, outDir, dataDir, log);
  if (code !== 0) return code;
  log(`done in ${((Date.now() - started) / 60000).toFixed(1)} min`);
  return 0;
}

/**
 * After the model files are written: the OOD fit, the test-split evaluation and the shortcut audit,
 * in this process (their modules' own entry points), on the files just written. Returns an exit code.
 */
async function afterTraining(args: ParsedArgs, outDir: string, dataDir: string, log: (s: string) => void): Promise<number> {
  // Out-of-distribution detector (trust.ood in metadata.json), fitted on train/val only, then the
  // test-split evaluation (metrics.json, always regenerated by the evaluation code, never typed in) and
  // the shortcut audit (audit.json): all in this process, on the files just written.
  if (!args.options.has('no-ood')) {
    const { fitOod, formatFit } = await import('./fit-ood');
    log('fitting the OOD detector (scripts/fit-ood.ts, in-process)');
    log(formatFit(await fitOod({ modelDir: outDir, dataDir, command: 'npm run train (in-process fitOod)' })));
  }
  if (!args.options.has('no-evaluate')) {
    const { main: evaluateMain } = await import('./evaluate');
    log('evaluating on test (scripts/evaluate.ts, in-process)');
    const code = await evaluateMain(['--data', dataDir, '--split', 'test', '--model', outDir, '--out', path.join(outDir, 'metrics.json')]);
    if (code !== 0) return code;
  }
  if (!args.options.has('no-audit') && !args.options.has('no-evaluate')) {
    const { main: auditMain } = await import('./audit');
    log('shortcut audit on test (scripts/audit.ts, in-process)');
    const code = await auditMain(['--data', dataDir, '--model', outDir]);
    if (code !== 0) return code;
  }
  return 0;
}

/** One line naming the recipe (the README's "Recipe" section explains each part). */
export const RECIPE =
  'v2 source-invariant: 112 px input, histogram equalisation + field-of-view mask; SOURCE_INVARIANT_AUGMENT (geometry, resolution round-trips, JPEG re-encoding, blur/sharpen, illumination, lines, markers, border bands); class-balanced sampling with equal adult/pediatric strata and source damping; Adam warm-up + cosine; epoch chosen by val loss; temperature + covid operating point on val';

/** The data set release, from its README ("Release N adds …"); null when the README does not say. */
export function dataRelease(dataDir: string): string | null {
  try {
    const text = fs.readFileSync(path.join(dataDir, 'README.md'), 'utf8');
    const releases = [...text.matchAll(/Release (\d+) add/g)].map((m) => Number(m[1]));
    return releases.length ? `release ${Math.max(...releases)}` : null;
  } catch {
    return null;
  }
}

runIfMain(import.meta.url, main);
