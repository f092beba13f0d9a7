// The one image pipeline (src/image/pipeline.ts): the model input it gives is bit-identical to the
// step-by-step preprocessing on real films and on colour, alpha and 16-bit images; the features are
// those of the same crop; the kept 8-bit crop the Train page stores gives the exact input back; the
// one downscaler matches the square resize the model input has always used; and the src/image layer
// has no tfjs, no import cycle and no upward import.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareImage, inputThumbnail } from '../../src/image/pipeline';
import { imageFeaturesFrom } from '../../src/image/features';
import {
  DEFAULT_PREPROCESSING,
  cropAndResize,
  cropRegion,
  downscaleGray,
  inputToGray8,
  normalizeInput,
  preprocessDecoded,
  resizeArea,
  resizeRegionArea,
  toGray8,
  type DecodedImage,
} from '../../src/image/preprocess';
import { decodeImageBytes } from '../../src/image/decode';
import { createRng } from '../../src/core/random';
import { CXR_DIR, REPO_ROOT, cxrEntries, hasCxr } from './helpers/shared-data';

const spec = DEFAULT_PREPROCESSING;

function synthetic(width: number, height: number, channels: 1 | 2 | 3 | 4, bitDepth: 8 | 16, seed: number): DecodedImage {
  const rng = createRng(seed);
  const max = bitDepth === 16 ? 65535 : 255;
  const data = bitDepth === 16 ? new Uint16Array(width * height * channels) : new Uint8Array(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(rng.next() * (max + 1));
  return { width, height, channels, data, bitDepth };
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describe('prepareImage', () => {
  const cases: [string, DecodedImage][] = [
    ['gray 8-bit, landscape', synthetic(301, 217, 1, 8, 1)],
    ['RGBA, portrait', synthetic(190, 260, 4, 8, 2)],
    ['gray+alpha 16-bit', synthetic(150, 150, 2, 16, 3)],
    ['RGB 16-bit, smaller than the input', synthetic(80, 60, 3, 16, 4)],
  ];
  it.each(cases)('%s: input bit-identical to preprocessDecoded, features of the same crop, geometry of cropRegion', (_, img) => {
    const p = prepareImage(img, spec);
    expect(sameBits(p.input, preprocessDecoded(img, spec))).toBe(true);
    const crop = cropAndResize(toGray8(img), spec);
    expect(sameBits(p.crop, crop)).toBe(true);
    expect(p.features).toEqual(imageFeaturesFrom(img, crop, spec.inputSize));
    expect(p.region).toEqual(cropRegion(img.width, img.height, spec.cropFraction));
  });

  it.runIf(hasCxr())(
    'on real films of every class: the same model input as preprocessDecoded, and the 8-bit crop the Train page keeps gives it back exactly',
    async () => {
      const entries = cxrEntries('test');
      const picked = ['covid', 'normal', 'pneumonia'].flatMap((label) => entries.filter((e) => e.label === label).slice(0, 3));
      expect(picked.length).toBe(9);
      for (const e of picked) {
        const img = await decodeImageBytes(new Uint8Array(fs.readFileSync(path.join(CXR_DIR, e.file))));
        const p = prepareImage(img, spec, { previewSide: 96 });
        expect(sameBits(p.input, preprocessDecoded(img, spec))).toBe(true);
        const crop8 = Float32Array.from(p.crop, (v) => Math.round(v));
        expect(sameBits(normalizeInput(crop8, spec), p.input)).toBe(true);
        expect(Math.max(p.preview!.width, p.preview!.height)).toBe(96);
      }
    },
  );

  it('the one downscaler: a square region through resizeArea is resizeRegionArea; thumbnails and previews come from it', () => {
    const gray = toGray8(synthetic(257, 199, 1, 8, 5));
    const region = cropRegion(gray.width, gray.height, 0.9);
    const a = resizeRegionArea(gray, region, 37);
    const b = resizeArea(gray, { x: region.x, y: region.y, width: region.size, height: region.size }, 37, 37);
    expect(sameBits(a, b)).toBe(true);
    const small = downscaleGray(gray, 64);
    expect([small.width, small.height]).toEqual([64, 50]);
    const whole = resizeArea(gray, { x: 0, y: 0, width: gray.width, height: gray.height }, 64, 50);
    expect(Array.from(small.data)).toEqual(Array.from(whole, (v) => Math.round(v)));
    // No enlargement: an image smaller than maxSide comes back unchanged.
    expect(downscaleGray(small, 500).data).toEqual(small.data);
    const input = prepareImage(synthetic(200, 200, 1, 8, 6), spec).input;
    const s = spec.inputSize;
    expect(inputThumbnail(input, spec, 64)).toEqual(downscaleGray({ width: s, height: s, data: inputToGray8(input, spec) }, 64).data);
  });
});

describe('src/image layer', () => {
  const files = (dir: string): string[] =>
    fs
      .readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true })
      .flatMap((d) => (d.isDirectory() ? files(`${dir}/${d.name}`) : /\.tsx?$/.test(d.name) ? [`${dir}/${d.name}`] : []));
  const importsOf = (file: string): string[] =>
    [...fs.readFileSync(path.join(REPO_ROOT, file), 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);

  it('imports no tfjs and nothing from ml, worker or ui', () => {
    for (const f of files('src/image')) {
      for (const spec of importsOf(f)) {
        expect(spec, `${f} imports ${spec}`).not.toMatch(/@tensorflow|\/(ml|worker|ui)\//);
      }
    }
  });

  it('has no import cycle (the decode.ts ⇄ dicom.ts cycle is gone)', () => {
    const graph = new Map<string, string[]>();
    for (const f of files('src/image')) {
      const deps = importsOf(f)
        .filter((s) => s.startsWith('./'))
        .map((s) => path.posix.join('src/image', s.replace(/^\.\//, '')) + '.ts')
        .filter((d) => fs.existsSync(path.join(REPO_ROOT, d)));
      graph.set(f, deps);
    }
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, trail: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(f)), f].join(' → '));
        return;
      }
      state.set(f, 'open');
      for (const d of graph.get(f) ?? []) visit(d, [...trail, f]);
      state.set(f, 'done');
    };
    for (const f of graph.keys()) visit(f, []);
    expect(cycles).toEqual([]);
    expect(graph.get('src/image/dicom.ts')).not.toContain('src/image/decode.ts');
  });
});
