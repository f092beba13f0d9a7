// The Node reference for browser/Node parity: `npm run predict -- <files> --json` when that script
// exists, else the same computation in-process (loadClassifierFromDir + preprocessFile).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './helpers';

export interface ReferencePrediction {
  file: string;
  label: string;
  probabilities: Record<string, number>;
}

export async function nodeReference(files: string[], modelDir: string): Promise<ReferencePrediction[]> {
  const script = path.join(REPO_ROOT, 'scripts/predict.ts');
  if (fs.existsSync(script) && process.env.CXR_REFERENCE !== 'inprocess') {
    const modelArgs = modelDir === path.join(REPO_ROOT, 'public/model') ? [] : ['--model', modelDir];
    const r = spawnSync('npm', ['run', '--silent', 'predict', '--', ...files, '--json', ...modelArgs], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    if (r.status !== 0) throw new Error(`npm run predict failed (${r.status}):\n${r.stderr}`);
    const start = r.stdout.indexOf('[');
    return JSON.parse(r.stdout.slice(start)) as ReferencePrediction[];
  }
  const { initNodeBackend } = await import('../../src/ml/tf-node');
  await initNodeBackend('cpu');
  const { loadClassifierFromDir, preprocessFile } = await import('../../scripts/lib/node-io');
  const classifier = await loadClassifierFromDir(modelDir);
  const out: ReferencePrediction[] = [];
  for (const file of files) {
    const input = await preprocessFile(file, classifier.metadata.preprocessing);
    const { predictions } = await classifier.predict([input]);
    const p = predictions[0];
    out.push({ file, label: p.label, probabilities: Object.fromEntries(classifier.classNames.map((c, i) => [c, p.probabilities[i]])) });
  }
  classifier.dispose();
  return out;
}
