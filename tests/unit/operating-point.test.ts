// src/core/operating-point.ts: the covid operating-point decision the Classify page and the CSV show.
import { describe, expect, it } from 'vitest';
import { covidScreen, describeScreen, formatComparison, positiveAt } from '../../src/core/operating-point';
import { buildMetricsReport } from '../../src/core/report';
import type { TrustSpec } from '../../src/core/metadata';

const classNames = ['covid', 'normal', 'pneumonia'];
const trust = (threshold: number): TrustSpec => ({
  temperature: 1.3,
  covidThreshold: { threshold, targetSensitivity: 0.95, valSensitivity: 0.96, valSpecificity: 0.81 },
});

describe('positiveAt', () => {
  it('is score >= threshold (the threshold itself is positive), NaN never positive', () => {
    expect(positiveAt(0.22, 0.22)).toBe(true);
    expect(positiveAt(0.2199999, 0.22)).toBe(false);
    expect(positiveAt(1, 0)).toBe(true);
    expect(positiveAt(Number.NaN, 0)).toBe(false);
  });
});

describe('covidScreen', () => {
  it('calls the covid probability against metadata.trust.covidThreshold', () => {
    const pos = covidScreen([0.31, 0.6, 0.09], classNames, trust(0.22));
    expect(pos).toEqual({
      className: 'covid',
      probability: 0.31,
      threshold: 0.22,
      positive: true,
      targetSensitivity: 0.95,
      valSensitivity: 0.96,
      valSpecificity: 0.81,
    });
    const neg = covidScreen([0.1, 0.8, 0.1], classNames, trust(0.22));
    expect(neg?.positive).toBe(false);
    expect(neg?.probability).toBe(0.1);
    // The class's position comes from classNames, not from a fixed index.
    expect(covidScreen([0.7, 0.25, 0.05], ['normal', 'covid', 'pneumonia'], trust(0.22))?.probability).toBe(0.25);
  });

  it('is positive even when covid is not the top class (a screen, not the label)', () => {
    const d = covidScreen([0.3, 0.65, 0.05], classNames, trust(0.22))!;
    expect(d.positive).toBe(true);
  });

  it('returns null without a usable operating point or with mismatched inputs', () => {
    expect(covidScreen([0.3, 0.6, 0.1], classNames, undefined)).toBeNull();
    expect(covidScreen([0.3, 0.6, 0.1], classNames, { temperature: 1 })).toBeNull();
    expect(covidScreen([0.3, 0.6, 0.1], classNames, trust(Number.NaN))).toBeNull();
    expect(covidScreen([0.3, 0.6, 0.1], classNames, trust(1.5))).toBeNull();
    expect(covidScreen([0.3, 0.7], ['normal', 'pneumonia'], trust(0.2))).toBeNull();
    expect(covidScreen([0.3, 0.7], classNames, trust(0.2))).toBeNull();
    expect(covidScreen([Number.NaN, 0.6, 0.1], classNames, trust(0.2))).toBeNull();
  });

  it('missing validation figures become null (metadata written as JSON turns NaN into null)', () => {
    const t = { temperature: 1, covidThreshold: JSON.parse('{"threshold":0.4,"targetSensitivity":0.9,"valSensitivity":null,"valSpecificity":null}') };
    const d = covidScreen([0.5, 0.3, 0.2], classNames, t)!;
    expect([d.valSensitivity, d.valSpecificity, d.targetSensitivity]).toEqual([null, null, 0.9]);
  });

  it('calls positive exactly the images the evaluation report counts as positive (tp + fp)', () => {
    // Scores on and around the threshold, including exact ties.
    const covid = [0.05, 0.2, 0.22, 0.22, 0.2200001, 0.5, 0.9, 0.219999, 0.0, 1.0];
    const labels = [1, 0, 0, 2, 0, 1, 0, 0, 2, 0];
    const probabilities = covid.map((p) => [p, (1 - p) / 2, (1 - p) / 2]);
    const threshold = 0.22;
    const report = buildMetricsReport({ classNames, labels, probabilities, operatingPoint: { className: 'covid', threshold }, bootstrap: false });
    const decisions = probabilities.map((p) => covidScreen(p, classNames, trust(threshold))!);
    const op = report.operatingPoint!;
    expect(decisions.filter((d) => d.positive).length).toBe(op.tp + op.fp);
    expect(decisions.filter((d, i) => d.positive && labels[i] === 0).length).toBe(op.tp);
    expect(decisions.filter((d, i) => !d.positive && labels[i] !== 0).length).toBe(op.tn);
  });
});

describe('describeScreen / formatComparison', () => {
  it('reads like the issue asks', () => {
    expect(describeScreen(covidScreen([0.31, 0.6, 0.09], classNames, trust(0.22))!)).toBe('covid screen: positive (p 0.31 ≥ threshold 0.22)');
    expect(describeScreen(covidScreen([0.1, 0.8, 0.1], classNames, trust(0.22))!)).toBe('covid screen: negative (p 0.10 < threshold 0.22)');
  });

  it('adds decimals until the two numbers differ, so the comparison never looks wrong', () => {
    expect(formatComparison(0.0412, 0.0423)).toEqual({ p: '0.041', t: '0.042' });
    expect(formatComparison(0.04231, 0.04234)).toEqual({ p: '0.04231', t: '0.04234' });
    expect(formatComparison(0.2, 0.2)).toEqual({ p: '0.200000', t: '0.200000' });
    expect(describeScreen(covidScreen([0.04199, 0.5, 0.45801], classNames, trust(0.042))!)).toBe('covid screen: negative (p 0.04199 < threshold 0.04200)');
  });
});
