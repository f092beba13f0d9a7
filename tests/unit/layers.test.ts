// The layering of src/ (README "Layout", docs/architecture.md), enforced rather than observed:
// imports point down core → image → ml → worker → ui, never up; src/core imports no package at all
// (pure TypeScript: labels, metrics, report, manifest, OOD statistics); src/image imports no tfjs and
// no React (pure pixel code, shared by Node and the browser); only src/ml, src/worker and the Node
// scripts import tfjs. The lib side (no DOM in core and image, WebWorker in workers, DOM in ui) is
// checked by the compiler: tsconfig.core.json, tsconfig.image.json, tsconfig.worker.json and
// tsconfig.ui.json, all run by `npm run typecheck`.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(new URL('../../src', import.meta.url).pathname);
const LAYERS = ['core', 'image', 'ml', 'worker', 'ui'] as const;
type Layer = (typeof LAYERS)[number];

function filesOf(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesOf(p) : /\.tsx?$/.test(e.name) ? [p] : [];
  });
}

interface ImportRef {
  specifier: string;
  typeOnly: boolean;
  line: number;
}

/** Static imports, re-exports and dynamic import() calls of a file (comments stripped first). */
function importsOf(text: string): ImportRef[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const out: ImportRef[] = [];
  const lineAt = (i: number) => code.slice(0, i).split('\n').length;
  for (const m of code.matchAll(/\b(import|export)\s+(type\s+)?[^'"`;]*?\bfrom\s+['"]([^'"]+)['"]/g)) {
    out.push({ specifier: m[3], typeOnly: Boolean(m[2]), line: lineAt(m.index) });
  }
  for (const m of code.matchAll(/\bimport\s+['"]([^'"]+)['"]/g)) out.push({ specifier: m[1], typeOnly: false, line: lineAt(m.index) });
  for (const m of code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push({ specifier: m[1], typeOnly: false, line: lineAt(m.index) });
  return out;
}

function layerOf(file: string): Layer | null {
  const first = path.relative(SRC, file).split(path.sep)[0];
  return (LAYERS as readonly string[]).includes(first) ? (first as Layer) : null;
}

/** Every import of src/ that breaks the layering, as `file:line → specifier (why)`. */
function violations(): string[] {
  const problems: string[] = [];
  for (const file of filesOf(SRC)) {
    const from = layerOf(file);
    if (!from) continue;
    const rel = path.relative(path.dirname(SRC), file);
    for (const ref of importsOf(fs.readFileSync(file, 'utf8'))) {
      const where = `${rel}:${ref.line} → ${ref.specifier}`;
      if (ref.specifier.startsWith('.')) {
        const target = path.resolve(path.dirname(file), ref.specifier);
        const to = layerOf(target);
        if (to && LAYERS.indexOf(to) > LAYERS.indexOf(from)) problems.push(`${where} (${from} must not import ${to})`);
        continue;
      }
      const pkg = ref.specifier;
      if (from === 'core' && !ref.typeOnly) problems.push(`${where} (src/core imports no package)`);
      if (from === 'image' && /^@tensorflow\/|^react/.test(pkg)) problems.push(`${where} (src/image is pure pixel code: no tfjs, no React)`);
      if ((from === 'ml' || from === 'worker') && /^react/.test(pkg)) problems.push(`${where} (no React below src/ui)`);
      if (from === 'ui' && /^@tensorflow\//.test(pkg) && !ref.typeOnly) problems.push(`${where} (the page never loads tfjs itself: workers own it)`);
    }
  }
  return problems;
}

describe('layering of src/', () => {
  it('finds the imports it checks (the parser sees static, type-only, side-effect and dynamic imports)', () => {
    const refs = importsOf(
      `import a from './a';\nimport type { B } from "../b";\nimport './c.css';\n// import x from './commented';\nconst d = await import('./d');\nexport { e } from './e';`,
    );
    expect(refs.map((r) => r.specifier)).toEqual(['./a', '../b', './e', './c.css', './d']);
    expect(refs.find((r) => r.specifier === '../b')?.typeOnly).toBe(true);
    expect(filesOf(path.join(SRC, 'core')).length).toBeGreaterThan(5);
  });

  it('imports point down core → image → ml → worker → ui; core imports no package; image and the page no tfjs', () => {
    expect(violations()).toEqual([]);
  });
});
