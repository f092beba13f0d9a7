// The DICOM header, used: a lateral view, a non-chest body part or a non-radiograph modality is
// withheld as "Not a chest X-ray?" with that reason; a pediatric age gives a warning; view, age, sex,
// modality and manufacturer reach the CSV; name, patient ID, birth date and accession never reach
// anything (the decoded image, the prediction, the CSV).
import { beforeAll, describe, expect, it } from 'vitest';
import { ageInYears, headerReasons, isLateral, pediatricWarning, siteKey, type DicomMeta } from '../../src/core/dicom-meta';
import { withHeaderReasons, type OodResult } from '../../src/core/ood';
import { decodeImageBytes } from '../../src/image/decode';
import { prepareImage } from '../../src/image/pipeline';
import { DEFAULT_PREPROCESSING } from '../../src/image/preprocess';
import { initNodeBackend } from '../../src/ml/tf-node';
import { buildClassifier, DEFAULT_MODEL_CONFIG, LAYER_NAMES } from '../../src/ml/model';
import { Classifier } from '../../src/ml/classifier';
import { CXR_CLASSES } from '../../src/core/labels';
import { csvHeader, rowsToCsv } from '../../src/ui/lib/csv';
import type { ModelMetadata } from '../../src/core/metadata';
import type { ClassifyResult } from '../../src/worker/protocol';
import type { Row } from '../../src/ui/state/batch';
import { makeDicom, type DicomImageSpec } from './helpers/dicom-writer';

const W = 64;
const H = 64;
const pixels = Array.from({ length: W * H }, (_, i) => ((i % W) * 3 + Math.floor(i / W) * 2) % 256);
const identifying = { patientName: 'DOE^JANE', patientId: 'MRN-0042-77', birthDate: '19610503', accession: 'ACC-99881' };
const file = (extra: Partial<DicomImageSpec>) => makeDicom({ rows: H, columns: W, pixels, ...identifying, ...extra });
const meta = (m: Partial<DicomMeta>): DicomMeta => ({
  transferSyntax: '1.2.840.10008.1.2.1',
  transferSyntaxName: 'Explicit VR Little Endian',
  photometric: 'MONOCHROME2',
  bitsStored: 8,
  numberOfFrames: 1,
  notes: [],
  headerReasons: [],
  ...m,
});

describe('header rules', () => {
  it('lateral from View Position, or from Patient Orientation when View Position is absent', () => {
    expect(isLateral({ viewPosition: 'LL' })).toBe(true);
    expect(isLateral({ viewPosition: 'RL' })).toBe(true);
    expect(isLateral({ viewPosition: 'PA' })).toBe(false);
    expect(isLateral({ viewPosition: 'AP', patientOrientation: ['A', 'F'] })).toBe(false); // View Position wins
    expect(isLateral({ patientOrientation: ['A', 'F'] })).toBe(true);
    expect(isLateral({ patientOrientation: ['P', 'FL'] })).toBe(true);
    expect(isLateral({ patientOrientation: ['L', 'F'] })).toBe(false);
    expect(isLateral({})).toBe(false);
  });

  it('reasons: lateral, non-chest body part, non-radiograph modality; chest in other languages and empty values pass', () => {
    expect(headerReasons(meta({ viewPosition: 'LL' }))).toEqual(['lateral view (DICOM View Position LL); the model reads frontal films only']);
    expect(headerReasons(meta({ bodyPart: 'HAND' }))).toEqual(['body part examined is HAND (DICOM header), not chest']);
    expect(headerReasons(meta({ modality: 'CT' }))).toEqual(['modality CT (CT) is not a chest radiograph']);
    for (const bodyPart of ['CHEST', 'THORAX', 'TORAX', 'BRUST', 'PORT CHEST', 'UNKNOWN', ''])
      expect(headerReasons(meta({ bodyPart, viewPosition: 'PA', modality: 'DX' }))).toEqual([]);
    expect(headerReasons(undefined)).toEqual([]);
  });

  it('age: AS strings in years, pediatric warning below 18, none for adults or unknown age', () => {
    expect(ageInYears('045Y')).toBe(45);
    expect(ageInYears('006M')).toBe(0.5);
    expect(ageInYears('xx')).toBeUndefined();
    expect(pediatricWarning(meta({ ageYears: 7 }))).toMatch(/^pediatric patient \(age 7 years, DICOM header\): the model was trained mostly on adult films/);
    expect(pediatricWarning(meta({ ageYears: 0.5 }))).toMatch(/age 6 months/);
    expect(pediatricWarning(meta({ ageYears: 18 }))).toBeNull();
    expect(pediatricWarning(meta({}))).toBeNull();
    expect(siteKey(meta({ manufacturer: 'Acme', manufacturerModel: 'DR-9000' }))).toBe('Acme DR-9000');
    expect(siteKey(undefined)).toBe('unknown');
  });

  it('header reasons join an existing verdict (flagged) or make one when the model has no OOD statistics', () => {
    const clean: OodResult = { flagged: false, score: 3, threshold: 10, reasons: [], checks: [] };
    const merged = withHeaderReasons(clean, ['lateral view']);
    expect(merged).toMatchObject({ flagged: true, score: 3, threshold: 10, reasons: ['lateral view'] });
    expect(merged!.checks[0]).toMatchObject({ id: 'header', fired: true });
    expect(withHeaderReasons(undefined, ['lateral view'])).toMatchObject({ flagged: true, reasons: ['lateral view'] });
    expect(withHeaderReasons(clean, [])).toBe(clean);
    expect(withHeaderReasons(undefined, [])).toBeUndefined();
  });
});

describe('header → prediction → CSV', () => {
  let classifier: Classifier;
  beforeAll(async () => {
    await initNodeBackend('wasm', { threads: 1 });
    const metadata: ModelMetadata = {
      name: 'test',
      version: '0',
      task: 'test',
      classNames: [...CXR_CLASSES],
      input: { shape: [1, DEFAULT_PREPROCESSING.inputSize, DEFAULT_PREPROCESSING.inputSize, 1], dtype: 'float32', layout: 'NHWC' },
      preprocessing: DEFAULT_PREPROCESSING,
      layers: { embedding: LAYER_NAMES.embedding, lastConv: LAYER_NAMES.lastConv, logits: LAYER_NAMES.logits },
      uncertainBelow: 0.6,
    };
    classifier = new Classifier(buildClassifier({ ...DEFAULT_MODEL_CONFIG, seed: 7 }), metadata);
  });

  async function classify(bytes: Uint8Array): Promise<ClassifyResult> {
    const image = await decodeImageBytes(bytes);
    const a = prepareImage(image, DEFAULT_PREPROCESSING);
    const { predictions } = await classifier.predict([a.input], { features: [a.features], dicom: [a.dicom] });
    // What the worker returns (src/worker/inference.worker.ts classify), minus the model input.
    return {
      resultId: 1,
      name: 'IM0001',
      format: 'dicom',
      width: image.width,
      height: image.height,
      bitDepth: image.bitDepth,
      prediction: predictions[0],
      thumbnail: { size: 1, gray: new Uint8Array(1) },
      timings: { readMs: 0, decodeMs: 0, preprocessMs: 0, inferenceMs: 1, totalMs: 1 },
      backend: 'wasm',
      dicom: image.dicom,
    };
  }

  it('a LATERAL film and a HAND film are withheld with that reason; a PA chest film is not withheld by its header', async () => {
    const lateral = await classify(file({ viewPosition: 'LL', bodyPart: 'CHEST' }));
    expect(lateral.prediction.ood?.flagged).toBe(true);
    expect(lateral.prediction.ood?.reasons).toEqual(['lateral view (DICOM View Position LL); the model reads frontal films only']);
    const byOrientation = await classify(file({ patientOrientation: 'A\\F' }));
    expect(byOrientation.prediction.ood?.reasons[0]).toMatch(/lateral view \(DICOM Patient Orientation A\\F\)/);
    const hand = await classify(file({ viewPosition: 'PA', bodyPart: 'HAND' }));
    expect(hand.prediction.ood?.reasons).toEqual(['body part examined is HAND (DICOM header), not chest']);
    const chest = await classify(file({ viewPosition: 'PA', bodyPart: 'CHEST', modality: 'DX' }));
    expect(chest.prediction.ood).toBeUndefined(); // this test model has no OOD statistics of its own
  });

  it('CSV: view, age, sex, modality, manufacturer and notes (pediatric warning); name, ID, birth date and accession nowhere', async () => {
    const r = await classify(
      file({
        viewPosition: 'AP',
        bodyPart: 'CHEST',
        patientAge: '006Y',
        patientSex: 'M',
        modality: 'CR',
        manufacturer: 'Acme Imaging',
        manufacturerModel: 'CR-1',
      }),
    );
    expect(r.dicom?.notes[0]).toMatch(/pediatric patient \(age 6 years/);
    expect(r.dicom?.headerReasons).toEqual([]);
    const rows: Row[] = [{ key: 1, name: 'IM0001', size: 1, status: 'done', result: r }];
    const csv = rowsToCsv(rows, { classNames: [...CXR_CLASSES], backend: 'wasm', modelVersion: 'test@0' });
    const [headerLine, line] = csv.trim().split('\r\n');
    const header = headerLine.split(',');
    expect(header).toEqual(csvHeader([...CXR_CLASSES]));
    const cells = line.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((c) => c.replace(/,$/, '').replace(/^"|"$/g, ''));
    const rec = Object.fromEntries(header.map((h, i) => [h, cells[i]]));
    expect(rec).toMatchObject({ view: 'AP', patient_age: '006Y', patient_sex: 'M', modality: 'CR', manufacturer: 'Acme Imaging', manufacturer_model: 'CR-1' });
    expect(rec.notes).toMatch(/pediatric patient/);
    // Nothing identifying in the CSV, nor in the result the worker posts (structured clone of it).
    const posted = JSON.stringify(structuredClone(r), (_, v) => (ArrayBuffer.isView(v) ? undefined : v));
    for (const value of Object.values(identifying)) {
      expect(csv).not.toContain(value);
      expect(posted).not.toContain(value);
    }
  });
});
