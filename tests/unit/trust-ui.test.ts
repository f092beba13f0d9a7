// Pure helpers behind the Classify page's trust display: the tolerant OOD reader, the CSV columns
// (covid screen, OOD) and metrics.json's samples reader for the model card's threshold slider.
import { describe, expect, it } from 'vitest';
import { isWithheld, oodHeadline, oodOf } from '../../src/ui/lib/ood';
import { csvHeader, rowsToCsv } from '../../src/ui/lib/csv';
import { readMetrics, readSamples } from '../../src/ui/lib/metricsView';
import { buildMetricsReport } from '../../src/core/report';
import { covidScreen } from '../../src/core/operating-point';
import type { ClassifyResult } from '../../src/worker/protocol';
import type { Row } from '../../src/ui/state/batch';

const classNames = ['covid', 'normal', 'pneumonia'];

function result(probabilities: number[], extra: Record<string, unknown> = {}, predictionExtra: Record<string, unknown> = {}): ClassifyResult {
  const best = probabilities.indexOf(Math.max(...probabilities));
  return {
    resultId: 1,
    name: 'x.png',
    format: 'png',
    width: 10,
    height: 10,
    bitDepth: 8,
    prediction: { probabilities, logits: probabilities.map(Math.log), label: classNames[best], uncertain: false, ...predictionExtra },
    covidScreen: covidScreen(probabilities, classNames, {
      temperature: 1,
      covidThreshold: { threshold: 0.25, targetSensitivity: 0.95, valSensitivity: 0.95, valSpecificity: 0.8 },
    }),
    thumbnail: { size: 2, gray: new Uint8Array(4) },
    timings: { readMs: 1, decodeMs: 1, preprocessMs: 1, inferenceMs: 2.5, totalMs: 5 },
    backend: 'webgl',
    ...extra,
  } as ClassifyResult;
}

describe('oodOf', () => {
  it('reads the verdict from the prediction or the result, and nothing when absent or malformed', () => {
    const verdict = { flagged: true, score: 41.2, threshold: 30.5, reasons: ['colour image', 'unlike the training X-rays'], checks: [] };
    expect(oodOf(result([0.2, 0.7, 0.1], {}, { ood: verdict }))).toEqual({
      flagged: true,
      score: 41.2,
      threshold: 30.5,
      reasons: ['colour image', 'unlike the training X-rays'],
      checks: [],
    });
    expect(oodOf(result([0.2, 0.7, 0.1], { ood: { ...verdict, flagged: false } }))?.flagged).toBe(false);
    expect(oodOf(result([0.2, 0.7, 0.1]))).toBeNull();
    expect(oodOf(result([0.2, 0.7, 0.1], {}, { ood: { flagged: 'yes' } }))).toBeNull();
    expect(oodOf(undefined)).toBeNull();
    expect(isWithheld(result([0.2, 0.7, 0.1], {}, { ood: verdict }))).toBe(true);
    expect(isWithheld(result([0.2, 0.7, 0.1]))).toBe(false);
    // Without per-check results the first reason, without its numbers, is the headline.
    expect(oodHeadline({ flagged: true, score: 1, threshold: 0, reasons: ['colour image (colourFraction 0.80 > 0.010)', 'text'], checks: [] })).toBe(
      'Not a chest X-ray? Colour image.',
    );
    expect(oodHeadline({ flagged: true, score: 1, threshold: 0, reasons: [], checks: [] })).toBe(
      'Not a chest X-ray? It does not resemble the chest X-rays the model was trained on.',
    );
  });
});

describe('rowsToCsv trust columns', () => {
  it('writes covid_screen, covid_threshold and the OOD verdict; empty cells when absent', () => {
    const rows: Row[] = [
      { key: 1, name: 'pos.png', size: 1, status: 'done', result: result([0.3, 0.6, 0.1]) },
      { key: 2, name: 'neg.png', size: 1, status: 'done', result: result([0.1, 0.8, 0.1]) },
      {
        key: 3,
        name: 'photo.jpg',
        size: 1,
        status: 'done',
        result: result([0.5, 0.4, 0.1], {}, { ood: { flagged: true, score: 50, threshold: 30, reasons: ['colour image'] } }),
      },
      { key: 4, name: 'old.png', size: 1, status: 'done', result: result([0.1, 0.8, 0.1], { covidScreen: undefined }) },
      { key: 5, name: 'bad.png', size: 1, status: 'error', error: 'not an image' },
    ];
    const lines = rowsToCsv(rows, { classNames, backend: 'webgl', modelVersion: 'm@1' }).trim().split('\r\n');
    const header = lines[0].split(',');
    expect(header).toEqual(csvHeader(classNames));
    const rec = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v])));
    // The flagged photo is withheld on the page, so it has no screen in the CSV either.
    expect(rec.map((r) => r.covid_screen)).toEqual(['positive', 'negative', '', '', '']);
    expect(rec.map((r) => r.covid_threshold)).toEqual(['0.25', '0.25', '0.25', '', '']);
    expect(rec.map((r) => r.ood_flagged)).toEqual(['', '', 'true', '', '']);
    expect(rec[2].ood_score).toBe('50.000000');
    expect(rec[2].ood_reasons).toBe('colour image');
    expect(rec[2].withheld).toBe('true');
    expect(rec[4].error).toBe('not an image');
  });
});

describe('readSamples', () => {
  const report = buildMetricsReport({
    classNames,
    labels: [0, 1, 2, 0],
    probabilities: [
      [0.7, 0.2, 0.1],
      [0.2, 0.7, 0.1],
      [0.1, 0.2, 0.7],
      [0.3, 0.6, 0.1],
    ],
    bootstrap: false,
  });

  it('passes the report samples through readMetrics', () => {
    const view = readMetrics(JSON.parse(JSON.stringify(report)), classNames);
    expect(view.samples?.label).toEqual([0, 1, 2, 0]);
    expect(view.samples?.scores.covid).toEqual([0.7, 0.2, 0.1, 0.3]);
  });

  it('rejects inconsistent samples instead of showing wrong numbers', () => {
    const s = JSON.parse(JSON.stringify(report.samples));
    expect(readSamples({ ...s, label: [0, 1, 2] }, classNames)).toBeNull();
    expect(readSamples({ ...s, label: [0, 1, 5, 0] }, classNames)).toBeNull();
    expect(readSamples({ ...s, scores: { ...s.scores, covid: [0.7, null, 0.1, 0.3] } }, classNames)).toBeNull();
    expect(readSamples({ ...s, scores: { covid: s.scores.covid } }, classNames)).toBeNull();
    expect(readSamples(null, classNames)).toBeNull();
    expect(readSamples(s, classNames)).not.toBeNull();
  });
});

describe('CSV of a withheld image says what the page says', () => {
  it('a flagged black square exports an empty label, uncertain and covid_screen; its probabilities stay, marked withheld', () => {
    // A black square: the model's top class is covid at 99.6 % and the screen would be positive.
    const square = result(
      [0.996, 0.003, 0.001],
      {},
      {
        ood: {
          flagged: true,
          score: 80,
          threshold: 30,
          reasons: ['large flat area (blank page or fill) (dominantFraction 1.00 > 0.273)'],
          checks: [
            {
              id: 'dominantFraction',
              side: 'high',
              value: 1,
              limit: 0.273,
              fired: true,
              reason: 'large flat area (blank page or fill) (dominantFraction 1.00 > 0.273)',
            },
          ],
        },
      },
    );
    expect(square.covidScreen?.positive).toBe(true);
    const rows: Row[] = [
      { key: 1, name: 'black.png', size: 1, status: 'done', result: square },
      { key: 2, name: 'film.png', size: 1, status: 'done', result: result([0.3, 0.6, 0.1]) },
    ];
    const lines = rowsToCsv(rows, { classNames, backend: 'webgl', modelVersion: 'm@1' }).trim().split('\r\n');
    const header = lines[0].split(',');
    const [black, film] = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v])));
    expect([black.label, black.uncertain, black.covid_screen, black.withheld, black.ood_flagged]).toEqual(['', '', '', 'true', 'true']);
    expect(Number(black.prob_covid)).toBeCloseTo(0.996, 6);
    expect([film.label, film.covid_screen, film.withheld]).toEqual(['normal', 'positive', 'false']);
  });
});
