// The .cxrlab project format (src/core/project.ts, zipped by src/ui/lib/project-file.ts): what is
// saved comes back bit for bit, and a file that is not a project, is damaged, incomplete or from a
// newer app gives one clear error.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { unzipSync, zipSync } from 'fflate';
import { buildProjectFiles, PROJECT_VERSION, ProjectFormatError, utf8Decode, type ProjectInput } from '../../src/core/project';
import { packProject, unpackProject } from '../../src/ui/lib/project-file';

// layout is NaN without a layout template: JSON has no NaN, the format keeps it anyway.
const features = {
  colourFraction: 0,
  colourMean: 0,
  contrast: 51.5,
  dominantFraction: 0.02,
  brightFraction: 0.01,
  roughness: 0.3,
  symmetry: 0.8,
  layout: NaN,
  entropy: 6.5,
  aspect: 0.1,
};

function realImage(): Uint8Array {
  const dir = path.resolve(__dirname, '../../../shared/data/cxr');
  const csv = path.join(dir, 'manifest.csv');
  if (fs.existsSync(csv)) {
    const row = fs.readFileSync(csv, 'utf8').split('\n')[1]?.split(',')[0];
    const p = row && path.resolve(dir, row);
    if (p && fs.existsSync(p)) return new Uint8Array(fs.readFileSync(p));
  }
  return new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4, 5]);
}

function sample(): ProjectInput {
  const dim = 8;
  const emb = (s: number) => Float32Array.from({ length: dim }, (_, i) => Math.sin(s + i) / 3);
  const image = realImage();
  return {
    name: 'covid vs normal',
    savedAt: '2026-12-02T15:00:00.000Z',
    classes: ['covid', 'normal'],
    images: [
      {
        path: 'dataset/covid/a ü.png',
        classIndex: 0,
        bytes: image,
        status: 'ready',
        split: 'train',
        prepared: {
          embedding: emb(1),
          crop: Uint8Array.from({ length: 16 }, (_, i) => i * 7),
          features,
          base: { pixels: new Uint8Array(25).fill(9), size: 5 },
          thumb: new Uint8Array(4).fill(3),
          fileHash: '0123456789abcdef',
          phash: 'fedcba9876543210',
        },
      },
      {
        path: 'dataset/normal/b.png',
        classIndex: 1,
        bytes: new Uint8Array([1, 2, 3]),
        status: 'ready',
        split: 'val',
        prepared: {
          embedding: emb(2),
          crop: Float32Array.from({ length: 16 }, (_, i) => i / 3),
          features,
          base: { pixels: new Uint8Array(25).fill(1), size: 5 },
          thumb: new Uint8Array(4).fill(7),
        },
      },
      { path: 'dataset/normal/bad.txt.png', classIndex: 1, bytes: new Uint8Array([0]), status: 'error', error: 'not an image', split: null },
    ],
    split: { seed: 7, valFraction: 0.25 },
    settings: { seed: 7, valFraction: 0.25, head: { epochs: 5, learningRate: 0.003 } },
    prepared: { base: 'cxr@1 0123456789abcdef', dim },
    run: {
      history: [
        { epoch: 1, stage: 'head', trainLoss: 0.9, trainAcc: 0.5, valLoss: 0.8, valAcc: 0.5, seconds: 0.1 },
        { epoch: 2, stage: 'head', trainLoss: 0.7, trainAcc: 0.75, valLoss: null, valAcc: null, seconds: 0.1 },
      ],
      keptEpoch: 2,
      stopReason: 'completed',
      plannedEpochs: 5,
      classNames: ['covid', 'normal'],
      trainCount: 1,
      valImages: [1, -1],
      valLabels: [1, 0],
      valProbs: Float32Array.from([0.1234567, 0.8765433, 1 / 3, 2 / 3]),
      probsEpoch: 2,
      durationMs: 1234,
      result: { keptEpoch: 2, decodes: 3 },
    },
    model: { 'model.json': new TextEncoder().encode('{"x":1}'), 'weights.bin': new Uint8Array([5, 6, 7, 8]), 'metadata.json': new TextEncoder().encode('{}') },
  };
}

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ProjectFormatError);
    return (e as Error).message;
  }
  throw new Error('no error');
}

describe('project format', () => {
  it('round trip: images, labels, split, settings, prepared data, curves and model come back bit for bit', () => {
    const input = sample();
    const back = unpackProject(packProject(buildProjectFiles(input)));
    const m = back.manifest;
    expect(m.version).toBe(PROJECT_VERSION);
    expect(m.classes).toEqual(input.classes);
    expect(m.split).toEqual(input.split);
    expect(m.settings).toEqual(input.settings);
    expect(back.images.map((im) => [im.path, im.classIndex, im.status, im.split, im.error])).toEqual(
      input.images.map((im) => [im.path, im.classIndex, im.status, im.split, im.error]),
    );
    back.images.forEach((im, i) => expect(Buffer.from(im.bytes).equals(Buffer.from(input.images[i].bytes))).toBe(true));
    for (const i of [0, 1]) {
      const a = input.images[i].prepared!;
      const b = back.images[i].prepared!;
      expect(Array.from(b.embedding)).toEqual(Array.from(a.embedding));
      expect(b.crop.constructor).toBe(a.crop.constructor);
      expect(Array.from(b.crop)).toEqual(Array.from(a.crop));
      expect(b.base.size).toBe(5);
      expect(Array.from(b.base.pixels)).toEqual(Array.from(a.base.pixels));
      expect(Array.from(b.thumb)).toEqual(Array.from(a.thumb));
      expect(b.features).toEqual(features);
      // The copies check's hashes come back where they were saved (a restored image is checked too).
      expect([b.fileHash, b.phash]).toEqual([a.fileHash, a.phash]);
    }
    expect(back.images[2].prepared).toBeUndefined();
    expect(m.run!.history).toEqual(input.run!.history);
    expect(m.run!.valImages).toEqual([1, -1]);
    expect(Array.from(back.valProbs!)).toEqual(Array.from(input.run!.valProbs!));
    expect(Object.keys(back.model!).sort()).toEqual(['metadata.json', 'model.json', 'weights.bin']);
    for (const [k, v] of Object.entries(input.model!)) expect(Array.from(back.model![k])).toEqual(Array.from(v));
  });

  it('a project without a run or prepared data (images only) round-trips too', () => {
    const input = { ...sample(), run: null, model: null, prepared: null };
    const back = unpackProject(packProject(buildProjectFiles(input)));
    expect(back.manifest.run).toBeNull();
    expect(back.model).toBeNull();
    expect(back.images.every((im) => im.prepared === undefined)).toBe(true);
    expect(back.images).toHaveLength(3);
  });

  it('refuses a file from a newer app, naming both versions', () => {
    const files = buildProjectFiles(sample());
    const m = JSON.parse(new TextDecoder().decode(files['project.json']));
    m.version = PROJECT_VERSION + 1;
    files['project.json'] = new TextEncoder().encode(JSON.stringify(m));
    expect(errorOf(() => unpackProject(zipSync(files)))).toMatch(
      new RegExp(`newer CXR Lab \\(format version ${PROJECT_VERSION + 1}; this app reads version ${PROJECT_VERSION}\\)`),
    );
  });

  it('not a zip, a truncated zip, a zip without project.json, invalid JSON, another format: each says so', () => {
    const bytes = packProject(buildProjectFiles(sample()));
    expect(errorOf(() => unpackProject(new TextEncoder().encode('hello world, this is not a zip file')))).toMatch(/not a \.cxrlab \(zip\) file/);
    expect(errorOf(() => unpackProject(bytes.slice(0, Math.floor(bytes.length / 2))))).toMatch(/damaged or incomplete/);
    expect(errorOf(() => unpackProject(zipSync({ 'other.txt': new Uint8Array([1]) })))).toMatch(/holds no project\.json/);
    expect(errorOf(() => unpackProject(zipSync({ 'project.json': new TextEncoder().encode('{"format": ') })))).toMatch(/project\.json is not valid JSON/);
    expect(errorOf(() => unpackProject(zipSync({ 'project.json': new Uint8Array([0x7b, 0xff, 0x7d]) })))).toMatch(/not valid JSON/);
    expect(errorOf(() => unpackProject(zipSync({ 'project.json': new TextEncoder().encode('{"format":"x","version":1}') })))).toMatch(/not a CXR Lab project/);
  });

  it('an incomplete file names the missing entry; damaged prepared data or mismatched probabilities are refused', () => {
    const files = unzipSync(packProject(buildProjectFiles(sample())));
    const image = Object.keys(files).find((f) => f.startsWith('images/0002/'))!;
    const { [image]: _gone, ...withoutImage } = files;
    expect(errorOf(() => unpackProject(zipSync(withoutImage)))).toBe(`the file is incomplete: ${image} (dataset/normal/b.png) is missing`);
    const { 'model/weights.bin': _w, ...withoutWeights } = files;
    expect(errorOf(() => unpackProject(zipSync(withoutWeights)))).toMatch(/model\/weights\.bin is missing/);
    expect(errorOf(() => unpackProject(zipSync({ ...files, 'prepared/0001.bin': files['prepared/0001.bin'].slice(1) })))).toMatch(
      /damaged: prepared\/0001\.bin has/,
    );
    const m = JSON.parse(new TextDecoder().decode(files['project.json']));
    m.run.valProbs = m.run.valProbs.slice(1);
    expect(errorOf(() => unpackProject(zipSync({ ...files, 'project.json': new TextEncoder().encode(JSON.stringify(m)) })))).toMatch(
      /validation probabilities do not match/,
    );
    m.run.valProbs = null;
    m.images[0].classIndex = 5;
    expect(errorOf(() => unpackProject(zipSync({ ...files, 'project.json': new TextEncoder().encode(JSON.stringify(m)) })))).toMatch(
      /image 1 \(dataset\/covid\/a ü\.png\) has no valid class/,
    );
  });

  it('utf8Decode matches TextDecoder and rejects malformed bytes', () => {
    const text = 'Röntgen — 胸部 🫁 plain';
    expect(utf8Decode(new TextEncoder().encode(text))).toBe(text);
    expect(() => utf8Decode(new Uint8Array([0xe2, 0x82]))).toThrow();
    expect(() => utf8Decode(new Uint8Array([0xc0, 0xaf]))).toThrow();
  });
});
