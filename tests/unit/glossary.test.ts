// Every glossary entry is used by an Explain button somewhere in the UI, and the figures and chart
// headings of the metric pages carry one (checked on the source: a heading, caption or chart title
// in these files without an Explain in it or right after it fails).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GLOSSARY, GLOSSARY_TERMS } from '../../src/ui/lib/glossary';

const ROOT = path.resolve(new URL('../..', import.meta.url).pathname);
const UI = path.join(ROOT, 'src/ui');

function tsxFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsxFiles(p) : p.endsWith('.tsx') ? [p] : [];
  });
}

const sources = new Map(tsxFiles(UI).map((f) => [path.relative(ROOT, f), fs.readFileSync(f, 'utf8')]));

describe('glossary', () => {
  it('has short, non-empty entries', () => {
    for (const t of GLOSSARY_TERMS) {
      const e = GLOSSARY[t];
      expect(e.term.length, t).toBeGreaterThan(2);
      expect(e.text.length, t).toBeGreaterThan(40);
      expect(e.text.length, t).toBeLessThan(420);
      expect(e.text, t).toMatch(/[.!?]$/);
    }
  });

  it('every entry is used by an Explain button', () => {
    const all = [...sources.values()].join('\n');
    const used = new Set<string>();
    for (const m of all.matchAll(/<Explain[^>]*\bterm="([A-Za-z]+)"/g)) used.add(m[1]);
    // term={k} over a list of keys (the Evaluate page's per-class columns).
    for (const m of all.matchAll(/\['(sensitivity|specificity|ppv|npv|f1)', '[^']+'\]/g)) used.add(m[1]);
    for (const m of all.matchAll(/explain=\{\[([^\]]+)\]\}/g)) for (const t of m[1].matchAll(/'([A-Za-z]+)'/g)) used.add(t[1]);
    expect(GLOSSARY_TERMS.filter((t) => !used.has(t))).toEqual([]);
    // And no Explain names a term that does not exist.
    expect([...used].filter((t) => !(t in GLOSSARY))).toEqual([]);
  });

  // Metric headings: chart titles, table captions of metric tables, metric column headers.
  const METRIC_FILES = [
    'src/ui/components/train/TrainingCharts.tsx',
    'src/ui/components/train/Evaluation.tsx',
    'src/ui/components/evaluate/EvaluateReport.tsx',
    'src/ui/components/ConfusionTable.tsx',
    'src/ui/components/OperatingPointExplorer.tsx',
    'src/ui/pages/ModelCardPage.tsx',
  ];
  /** Headings that hold no metric (data counts, subgroup tables, audit tables with their own text). */
  const NOT_METRIC =
    /Images per class and split|By \{name|What the model saw|Acquisition shift|Leave-source-out|Source probe|Performance by subgroup|Caveats|\{children\}/;

  it.each(METRIC_FILES)('%s: every chart title, metric caption and metric column header has an Explain', (file) => {
    const src = sources.get(file);
    expect(src, file).toBeDefined();
    const missing: string[] = [];
    const re = /<(figcaption|caption|ChartTitle|h3)\b[^>]*>([\s\S]*?)<\/\1>|<p className="chart__title">([\s\S]*?)<\/p>/g;
    for (const m of src!.matchAll(re)) {
      const body = m[2] ?? m[3] ?? '';
      if (NOT_METRIC.test(body) || /className="muted"/.test(m[0])) continue;
      if (!/<Explain\b|\{explain/.test(body)) missing.push(body.trim().slice(0, 70));
    }
    // Metric column headers (<th scope="col" className="num">name</th>).
    for (const m of src!.matchAll(/<th scope="col" className="num"[^>]*>([\s\S]*?)<\/th>/g)) {
      const body = m[1];
      if (/^\s*(images|support)?\s*$/.test(body) && !/<Explain/.test(body) && file.includes('Evaluate')) continue;
      if (/sensitivity|specificity|PPV|NPV|F1|AUC|precision|recall|\{label\}/.test(body) && !/<Explain/.test(body)) missing.push(`th: ${body.trim()}`);
    }
    expect(missing).toEqual([]);
  });
});
