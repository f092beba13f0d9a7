// npm run stats:code [-- --json] [--top 10] — the size of the house: lines per layer (src/core,
// src/image, src/ml, src/worker, src/ui, scripts, bench, tests), the largest files and the largest
// functions (declarations, arrow functions, function expressions and methods, by line span). The
// architecture issue asks for these before/after a restructuring; this is the one command that
// measures them. Parses TypeScript with the parser Vite already ships (rolldown's oxc), so it needs
// no extra dependency and no type information.
import fs from 'node:fs';
import path from 'node:path';
import { parseAst } from 'rolldown/parseAst';
import { optNumber, parseArgsOrExit } from './lib/args';

const args = parseArgsOrExit(process.argv.slice(2), {
  usage: `usage: npm run stats:code [-- --json] [--top <n>]
  --json  print JSON instead of text
  --top   how many of the largest files and functions to list (default 10)`,
  options: { json: 'flag', top: 'number' },
});
const top = optNumber(args, 'top', 10);
const ROOT = path.resolve(new URL('..', import.meta.url).pathname);
const LAYERS = ['src/core', 'src/image', 'src/ml', 'src/worker', 'src/ui', 'src', 'scripts', 'bench', 'tests'] as const;

function sourceFiles(dir: string): string[] {
  const abs = path.join(ROOT, dir);
  if (!fs.existsSync(abs)) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(abs, { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(rel));
    else if (/\.(ts|tsx)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

interface FunctionSpan {
  file: string;
  name: string;
  line: number;
  lines: number;
}

/** Line number (1-based) of each offset, via the offsets of line starts. */
function lineIndex(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

type Node = { type: string; start: number; end: number; [key: string]: unknown };
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && typeof (v as Node).type === 'string';
const FUNCTION_TYPES = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

function keyName(key: unknown): string | undefined {
  if (!isNode(key)) return undefined;
  if (key.type === 'Identifier') return key.name as string;
  if (key.type === 'Literal') return String(key.value);
  return undefined;
}

function functionsOf(file: string, text: string): FunctionSpan[] {
  const ast = parseAst(text, { lang: file.endsWith('.tsx') ? 'tsx' : 'ts' }) as unknown as Node;
  const lineOf = lineIndex(text);
  const out: FunctionSpan[] = [];
  const visit = (node: Node, name: string | undefined) => {
    if (FUNCTION_TYPES.has(node.type)) {
      const id = keyName(node.id);
      const first = lineOf(node.start);
      out.push({ file, name: id ?? name ?? '(anonymous)', line: first, lines: lineOf(node.end) - first + 1 });
    }
    for (const [key, value] of Object.entries(node)) {
      if (key === 'type' || key === 'start' || key === 'end') continue;
      // The name a function gets from where it stands: `const f = () => …`, `{ f: () => … }`, methods.
      let childName: string | undefined;
      if (node.type === 'VariableDeclarator' && key === 'init') childName = keyName(node.id);
      else if ((node.type === 'Property' || node.type === 'MethodDefinition' || node.type === 'PropertyDefinition') && key === 'value')
        childName = keyName(node.key);
      else if (node.type === 'CallExpression' && key === 'arguments') childName = name ? `${name} (callback)` : undefined;
      for (const child of Array.isArray(value) ? value : [value]) if (isNode(child)) visit(child, childName);
    }
  };
  visit(ast, undefined);
  return out;
}

const lineCount = (text: string) => text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
const layers = LAYERS.map((layer) => {
  const files = sourceFiles(layer).filter((f) => layer !== 'src' || path.dirname(f) === 'src');
  return {
    layer: layer === 'src' ? 'src (top level)' : layer,
    files: files.length,
    lines: files.reduce((n, f) => n + lineCount(fs.readFileSync(path.join(ROOT, f), 'utf8')), 0),
  };
});
const appFiles = ['src', 'scripts'].flatMap(sourceFiles);
const fileSizes = appFiles.map((f) => ({ file: f, lines: lineCount(fs.readFileSync(path.join(ROOT, f), 'utf8')) })).sort((a, b) => b.lines - a.lines);
const functions = appFiles.flatMap((f) => functionsOf(f, fs.readFileSync(path.join(ROOT, f), 'utf8'))).sort((a, b) => b.lines - a.lines);

const result = {
  layers,
  largestFiles: fileSizes.slice(0, top),
  largestFunctions: functions.slice(0, top),
  functionsOver100Lines: functions.filter((f) => f.lines > 100).length,
};
if (args.options.has('json')) {
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
} else {
  const lines = ['Lines per layer (files)'];
  for (const l of layers) lines.push(`  ${l.layer.padEnd(16)} ${String(l.lines).padStart(6)}  (${l.files})`);
  lines.push('', `Largest files (src, scripts)`);
  for (const f of result.largestFiles) lines.push(`  ${String(f.lines).padStart(5)}  ${f.file}`);
  lines.push('', `Largest functions (src, scripts)`);
  for (const f of result.largestFunctions) lines.push(`  ${String(f.lines).padStart(5)}  ${f.name}  ${f.file}:${f.line}`);
  lines.push('', `functions over 100 lines: ${result.functionsOver100Lines}`);
  process.stdout.write(lines.join('\n') + '\n');
}
