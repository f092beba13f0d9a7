// Pure helpers behind the Classify page: one verdict per image (class, uncertainty, covid screen and
// input check reconciled), plain out-of-distribution reasons, table sorting with withheld rows, and
// the throttled store that batches a stream of results into few renders.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { covidScreen } from '../../src/core/operating-point';
import { oodDetails, oodHeadline, oodOf } from '../../src/ui/lib/ood';
import { filterRows, isFiltering, sortRows } from '../../src/ui/lib/table';
import { verdictOf } from '../../src/ui/lib/verdict';
import { Store } from '../../src/ui/lib/store';
import type { ClassifyResult } from '../../src/worker/protocol';
import type { Row } from '../../src/ui/state/batch';

const classNames = ['covid', 'normal', 'pneumonia'];
const trust = { temperature: 1, covidThreshold: { threshold: 0.0786, targetSensitivity: 0.95, valSensitivity: 0.95, valSpecificity: 0.8 } };

function result(probabilities: number[], opts: { uncertain?: boolean; ood?: unknown; screen?: boolean } = {}): ClassifyResult {
  const best = probabilities.indexOf(Math.max(...probabilities));
  return {
    resultId: 1,
    name: 'x.png',
    format: 'png',
    width: 10,
    height: 10,
    bitDepth: 8,
    prediction: {
      probabilities,
      logits: probabilities.map(Math.log),
      label: classNames[best],
      uncertain: opts.uncertain ?? false,
      ...(opts.ood ? { ood: opts.ood } : {}),
    },
    covidScreen: opts.screen === false ? null : covidScreen(probabilities, classNames, trust),
    thumbnail: { size: 2, gray: new Uint8Array(4) },
    timings: { readMs: 1, decodeMs: 1, preprocessMs: 1, inferenceMs: 2.5, totalMs: 5 },
    backend: 'webgl',
  } as ClassifyResult;
}

const flat = {
  flagged: true,
  score: 12.5,
  threshold: 30.5,
  reasons: ['large flat area (blank page or fill) (dominantFraction 1.00 > 0.273)', 'unlike the training X-rays (distance 95.0 > 30.5)'],
  checks: [
    { id: 'colourFraction', side: 'high', value: 0, limit: 0.01, fired: false, reason: 'colour image (colourFraction 0.000 > 0.010)' },
    { id: 'embedding', side: 'high', value: 95, limit: 30.5, fired: true, reason: 'unlike the training X-rays (distance 95.0 > 30.5)' },
    {
      id: 'dominantFraction',
      side: 'high',
      value: 1,
      limit: 0.273,
      fired: true,
      reason: 'large flat area (blank page or fill) (dominantFraction 1.00 > 0.273)',
    },
  ],
};

describe('verdictOf: one coherent verdict per image', () => {
  it('"normal · uncertain" with a positive covid screen reads as one statement, with the threshold in one sentence', () => {
    const v = verdictOf(result([0.2, 0.45, 0.35], { uncertain: true }));
    expect(v.kind).toBe('screen-positive');
    expect(v.headline).toBe('Possible covid: the covid screen is positive, although the most likely class is normal (uncertain).');
    expect(v.screenSentence).toBe(
      'The covid screen is positive whenever the covid probability is at least 7.9 % (here 20 %), a cut-off chosen to catch 95 % of covid films in validation (sensitivity 0.95), so it also flags many images that are not covid.',
    );
    // One sentence: a single full stop, at the end.
    expect(v.screenSentence!.match(/\.(\s|$)/g)).toHaveLength(1);
  });

  it('agreeing class and screen, a negative screen, no screen', () => {
    expect(verdictOf(result([0.8, 0.15, 0.05])).headline).toBe('Covid: the covid screen is positive and covid is the most likely class.');
    expect(verdictOf(result([0.02, 0.9, 0.08]))).toMatchObject({ kind: 'screen-negative', headline: 'Normal; covid screen negative.' });
    expect(verdictOf(result([0.02, 0.5, 0.48], { uncertain: true, screen: false }))).toMatchObject({
      kind: 'no-screen',
      headline: 'Uncertain, most likely normal.',
      screenSentence: null,
    });
  });

  it('a withheld image gets the plain reason and no class', () => {
    const v = verdictOf(result([0.996, 0.003, 0.001], { ood: flat }));
    expect(v).toMatchObject({ kind: 'withheld', topClass: null, screenSentence: null });
    expect(v.headline).toBe('Not a chest X-ray? Most of it is one flat shade, like a blank page or a filled area.');
  });
});

describe('out-of-distribution reasons', () => {
  it('headline: one plain reason, an image check before the learnt distance; the numbers only in the details', () => {
    const ood = oodOf(result([0.996, 0.003, 0.001], { ood: flat }))!;
    const headline = oodHeadline(ood);
    expect(headline).not.toMatch(/dominantFraction|\d/);
    const details = oodDetails(ood);
    expect(details).toEqual([
      'unlike the training X-rays (distance 95.0 > 30.5)',
      'large flat area (blank page or fill) (dominantFraction 1.00 > 0.273)',
      'out-of-distribution score 12.500, threshold 30.500',
    ]);
    // Only the learnt check fired: its plain form.
    const onlyEmbedding = { ...flat, checks: [flat.checks[1]] };
    expect(oodHeadline(oodOf(result([0.5, 0.3, 0.2], { ood: onlyEmbedding }))!)).toBe(
      'Not a chest X-ray? It does not resemble the chest X-rays the model was trained on.',
    );
  });
});

describe('sortRows', () => {
  const rows: Row[] = [
    { key: 1, name: 'a.png', size: 1, status: 'done', result: result([0.3, 0.6, 0.1]) },
    { key: 2, name: 'black.png', size: 1, status: 'done', result: result([0.996, 0.003, 0.001], { ood: flat }) },
    { key: 3, name: 'b.png', size: 1, status: 'done', result: result([0.7, 0.2, 0.1]) },
    { key: 4, name: 'bad.png', size: 1, status: 'error', error: 'not an image' },
    { key: 5, name: 'c.png', size: 1, status: 'done', result: result([0.05, 0.9, 0.05]) },
  ];
  const names = (list: Row[]) => list.map((r) => r.name);

  it('sorting by a class puts withheld rows after every presented one, in both directions', () => {
    expect(names(sortRows(rows, { key: 'p:0', dir: -1 }))).toEqual(['b.png', 'a.png', 'c.png', 'black.png', 'bad.png']);
    expect(names(sortRows(rows, { key: 'p:0', dir: 1 }))).toEqual(['c.png', 'a.png', 'b.png', 'black.png', 'bad.png']);
    expect(names(sortRows(rows, { key: 'label', dir: 1 }))).toEqual(['b.png', 'a.png', 'c.png', 'black.png', 'bad.png']);
    expect(names(sortRows(rows, { key: 'order', dir: -1 }))).toEqual(['c.png', 'bad.png', 'b.png', 'black.png', 'a.png']);
  });

  it('filters; isFiltering tells whether the export should offer the filtered rows', () => {
    expect(names(filterRows(rows, { text: '', show: 'covid' }))).toEqual(['b.png']);
    expect(names(filterRows(rows, { text: 'b', show: 'all' }))).toEqual(['black.png', 'b.png', 'bad.png']);
    expect(isFiltering({ text: '', show: 'all' })).toBe(false);
    expect(isFiltering({ text: ' ', show: 'all' })).toBe(false);
    expect(isFiltering({ text: 'x', show: 'all' })).toBe(true);
    expect(isFiltering({ text: '', show: 'ood' })).toBe(true);
  });
});

describe('Store throttle', () => {
  afterEach(() => vi.useRealTimers());

  it('a stream of updates notifies once per interval with the newest state; urgent updates notify at once', () => {
    vi.useFakeTimers();
    const store = new Store({ n: 0 }, { throttleMs: 100 });
    const seen: number[] = [];
    store.subscribe(() => seen.push(store.get().n));
    // A burst in one task: one notification, after the task, with the last state.
    for (let i = 1; i <= 50; i++) store.set((s) => ({ n: s.n + 1 }));
    expect(store.get().n).toBe(50);
    expect(seen).toEqual([]);
    vi.advanceTimersByTime(0);
    expect(seen).toEqual([50]);
    // Updates spread over the next interval wait for its end.
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(9);
      store.set((s) => ({ n: s.n + 1 }));
    }
    expect(seen).toEqual([50]);
    vi.advanceTimersByTime(9);
    expect(seen).toEqual([50]);
    vi.advanceTimersByTime(1);
    expect(seen).toEqual([50, 60]);
    store.set({ n: 61 }, { urgent: true });
    expect(seen).toEqual([50, 60, 61]);
    store.set({ n: 62 });
    store.flush();
    expect(seen).toEqual([50, 60, 61, 62]);
    vi.advanceTimersByTime(500);
    expect(seen).toEqual([50, 60, 61, 62]);
    // Without throttleMs every set notifies.
    const plain = new Store(0);
    let calls = 0;
    plain.subscribe(() => calls++);
    plain.set(1);
    plain.set(2);
    expect(calls).toBe(2);
  });
});
