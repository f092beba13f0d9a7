// Multiply-accumulates of one forward pass at batch 1, counted layer by layer from a tf.layers model
// (Conv2D, DepthwiseConv2D, Dense; pooling, BN, activations and adds are not counted, as in the
// MobileNet papers' "mult-adds").
//   npx tsx bench/lib/macs.ts [model dir]     # the shipped model (public/model) and the reference
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgsOrExit } from '../../scripts/lib/args';
import type * as tfType from '@tensorflow/tfjs';

export interface MacCount {
  total: number;
  byLayer: { name: string; className: string; macs: number }[];
}

export function countMacs(model: tfType.LayersModel): MacCount {
  const byLayer: MacCount['byLayer'] = [];
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const out = layer.outputShape as number[];
    const inShape = (layer.inputSpec?.[0]?.shape ?? (Array.isArray(layer.input) ? layer.input[0].shape : layer.input.shape)) as number[];
    const cfg = layer.getConfig() as { kernelSize?: number[] | number; filters?: number; depthMultiplier?: number; units?: number };
    const k = Array.isArray(cfg.kernelSize) ? cfg.kernelSize[0] * cfg.kernelSize[1] : (cfg.kernelSize ?? 1) ** 2;
    let macs = 0;
    if (cls === 'Conv2D') macs = out[1] * out[2] * k * inShape[3] * (cfg.filters ?? 0);
    else if (cls === 'DepthwiseConv2D') macs = out[1] * out[2] * k * inShape[3] * (cfg.depthMultiplier ?? 1);
    else if (cls === 'Dense') macs = inShape[inShape.length - 1] * (cfg.units ?? 0);
    if (macs > 0) byLayer.push({ name: layer.name, className: cls, macs });
  }
  return { total: byLayer.reduce((s, l) => s + l.macs, 0), byLayer };
}

async function main(): Promise<void> {
  const tf = await import('@tensorflow/tfjs');
  const { buildMobileNetV2 } = await import('./mobilenet-v2');
  const repo = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
  const args = parseArgsOrExit(process.argv.slice(2), {
    usage: 'usage: npx tsx bench/lib/macs.ts [model dir]\n  MACs and parameters of a model folder (default public/model) and of the MobileNetV2 reference',
    options: {},
    positionals: true,
  });
  const dir = path.resolve(args.positional[0] ?? path.join(repo, 'public/model'));
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as { modelTopology: object };
  const ours = (await tf.models.modelFromJSON(json.modelTopology as unknown as Parameters<typeof tf.models.modelFromJSON>[0])) as tfType.LayersModel;
  const ref = buildMobileNetV2({ alpha: 0.35, inputSize: 224, channels: 3, classes: 3 });
  const a = countMacs(ours);
  const b = countMacs(ref);
  const m = (n: number) => `${(n / 1e6).toFixed(1)} M`;
  console.log(
    `ours (${path.relative(repo, dir) || dir}), input ${JSON.stringify(ours.inputs[0].shape.slice(1))}: ${m(a.total)} MACs, ${ours.countParams()} params`,
  );
  for (const l of a.byLayer) console.log(`  ${l.name.padEnd(16)} ${l.className.padEnd(16)} ${m(l.macs).padStart(9)}`);
  const backbone = buildMobileNetV2({ alpha: 0.35, inputSize: 224, channels: 3, head: 'none' });
  console.log(
    `reference MobileNetV2 alpha 0.35 + TM head, input [224,224,3]: ${m(b.total)} MACs, ${ref.countParams()} params ` +
      `(backbone alone ${backbone.countParams()} params, ${m(countMacs(backbone).total)} MACs)`,
  );
  console.log(`macs ours/reference: ${(a.total / b.total).toFixed(2)}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
