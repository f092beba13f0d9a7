// Loading and saving model artifacts through tfjs IO handlers, with one code path for the browser
// (fetch) and Node (fs): both supply a `readFile(relativePath)`; everything else is shared, so
// `npm run evaluate` loads public/model exactly as the page does.
import * as tf from './tf';
import { parseModelMetadata, type ModelMetadata } from '../core/metadata';

export class ModelLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelLoadError';
  }
}

export type FileReader = (relativePath: string) => Promise<Uint8Array>;

function parseJsonFile(bytes: Uint8Array, name: string): unknown {
  const text = new TextDecoder().decode(bytes);
  const head = text.trimStart().slice(0, 1);
  if (head === '<') {
    throw new ModelLoadError(`${name} is missing or not JSON: the server returned an HTML page instead (is the model folder deployed?)`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelLoadError(`${name} is corrupt: ${(e as Error).message}`);
  }
}

async function readOrExplain(read: FileReader, path: string): Promise<Uint8Array> {
  try {
    return await read(path);
  } catch (e) {
    const missing = (e as { code?: string }).code === 'ENOENT' || /\b404\b/.test((e as Error).message);
    throw new ModelLoadError(missing ? `model file ${path} is missing (${(e as Error).message})` : `cannot read model file ${path}: ${(e as Error).message}`);
  }
}

/** Whether bytes start like an HTML document (what web servers send for a missing file). */
function looksLikeHtml(bytes: Uint8Array): boolean {
  const head = new TextDecoder().decode(bytes.subarray(0, 64)).trimStart().toLowerCase();
  return head.startsWith('<!doctype html') || head.startsWith('<html');
}

/** An IOHandler whose load() reads model.json and its weight shards through `read`. */
export function readerIOHandler(read: FileReader, modelJsonPath = 'model.json', onProgress?: (fraction: number) => void): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const json = parseJsonFile(await readOrExplain(read, modelJsonPath), modelJsonPath) as tf.io.ModelJSON;
      if (!json || typeof json !== 'object' || !json.modelTopology || !Array.isArray(json.weightsManifest)) {
        throw new ModelLoadError(`${modelJsonPath} is not a TensorFlow.js layers model (no modelTopology / weightsManifest)`);
      }
      const dir = modelJsonPath.includes('/') ? modelJsonPath.slice(0, modelJsonPath.lastIndexOf('/') + 1) : '';
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Uint8Array[] = [];
      const paths = json.weightsManifest.flatMap((g) => g.paths);
      let done = 0;
      for (const group of json.weightsManifest) {
        specs.push(...group.weights);
        const groupBuffers: Uint8Array[] = [];
        for (const p of group.paths) {
          const bytes = await readOrExplain(read, dir + p);
          // A static server (or the dev server's SPA fallback) answers a missing shard with its HTML
          // page: name the file instead of reporting a byte count that matches nothing.
          if (looksLikeHtml(bytes))
            throw new ModelLoadError(`weight file ${dir + p} (named in ${modelJsonPath}) is missing: the server returned an HTML page instead`);
          groupBuffers.push(bytes);
          done++;
          onProgress?.(done / paths.length);
        }
        // Each group's shards hold exactly that group's weights, so a short group names its files.
        const got = groupBuffers.reduce((n, b) => n + b.byteLength, 0);
        const want = group.weights.reduce((n, w) => n + weightBytes(w), 0);
        if (got !== want) {
          const files = group.paths.map((p) => dir + p).join(', ');
          throw new ModelLoadError(
            `weight file${group.paths.length > 1 ? 's' : ''} ${files} ${got < want ? 'truncated or wrong' : 'too long or wrong'}: ${got} bytes, ${modelJsonPath} expects ${want}`,
          );
        }
        buffers.push(...groupBuffers);
      }
      const total = buffers.reduce((s, b) => s + b.byteLength, 0);
      const weightData = new Uint8Array(total);
      let off = 0;
      for (const b of buffers) {
        weightData.set(b, off);
        off += b.byteLength;
      }
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        weightSpecs: specs,
        weightData: weightData.buffer,
      };
    },
  };
}

function weightBytes(w: tf.io.WeightsManifestEntry): number {
  const n = w.shape.reduce((a, b) => a * b, 1);
  if (w.quantization) return n * (w.quantization.dtype === 'float16' || w.quantization.dtype === 'uint16' ? 2 : 1);
  return n * 4;
}

export async function loadMetadata(read: FileReader, path = 'metadata.json'): Promise<ModelMetadata> {
  const json = parseJsonFile(await readOrExplain(read, path), path);
  try {
    return parseModelMetadata(json);
  } catch (e) {
    throw new ModelLoadError((e as Error).message);
  }
}

/** Loads a layers model + metadata; checks that the model and metadata agree. */
export async function loadModelFiles(read: FileReader, onProgress?: (fraction: number) => void): Promise<{ model: tf.LayersModel; metadata: ModelMetadata }> {
  const metadata = await loadMetadata(read);
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(readerIOHandler(read, 'model.json', onProgress));
  } catch (e) {
    if (e instanceof ModelLoadError) throw e;
    throw new ModelLoadError(`model.json could not be loaded: ${(e as Error).message}`);
  }
  const shape = model.inputs[0].shape;
  const s = metadata.preprocessing.inputSize;
  if (shape[1] !== s || shape[2] !== s || shape[3] !== 1) {
    model.dispose();
    throw new ModelLoadError(`model input ${JSON.stringify(shape)} does not match metadata inputSize ${s}`);
  }
  const outUnits = model.outputs[0].shape[model.outputs[0].shape.length - 1];
  if (outUnits !== metadata.classNames.length) {
    model.dispose();
    throw new ModelLoadError(`model has ${outUnits} outputs but metadata lists ${metadata.classNames.length} classes`);
  }
  return { model, metadata };
}

/**
 * Saves a model as model.json + one weight shard, optionally quantising weights (float16 or uint8:
 * tfjs dequantises on load). Returns the files so the caller writes them (fs in Node, download in
 * the browser).
 */
export async function serializeModel(
  model: tf.LayersModel,
  quantize: 'none' | 'float16' | 'uint8' = 'none',
  shardName = 'weights.bin',
): Promise<{ modelJson: string; weights: Uint8Array }> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save({
    async save(a: tf.io.ModelArtifacts) {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    },
  });
  if (!artifacts || !artifacts.weightSpecs || !artifacts.weightData) throw new Error('model.save produced no weights');
  const specs = artifacts.weightSpecs;
  const raw = new Uint8Array(
    artifacts.weightData instanceof ArrayBuffer ? artifacts.weightData : await new Blob(artifacts.weightData as ArrayBuffer[]).arrayBuffer(),
  );
  let outSpecs: tf.io.WeightsManifestEntry[] = specs;
  let weights = raw;
  if (quantize !== 'none') {
    const parts: Uint8Array[] = [];
    outSpecs = [];
    let off = 0;
    for (const spec of specs) {
      const n = spec.shape.reduce((a, b) => a * b, 1);
      const values = new Float32Array(raw.buffer.slice(raw.byteOffset + off, raw.byteOffset + off + n * 4));
      off += n * 4;
      // BatchNorm statistics and biases are tiny and sensitive: keep them float32.
      if (spec.dtype !== 'float32' || n < 1024) {
        parts.push(new Uint8Array(values.buffer));
        outSpecs.push(spec);
        continue;
      }
      if (quantize === 'float16') {
        parts.push(new Uint8Array(float32ToFloat16(values).buffer));
        outSpecs.push({ ...spec, quantization: { dtype: 'float16' } });
      } else {
        let min = Infinity;
        let max = -Infinity;
        for (const v of values) {
          if (v < min) min = v;
          if (v > max) max = v;
        }
        const scale = max > min ? (max - min) / 255 : 1;
        const q = new Uint8Array(n);
        for (let i = 0; i < n; i++) q[i] = Math.round((values[i] - min) / scale);
        parts.push(q);
        outSpecs.push({ ...spec, quantization: { dtype: 'uint8', scale, min } });
      }
    }
    const total = parts.reduce((s, p) => s + p.byteLength, 0);
    weights = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      weights.set(p, o);
      o += p.byteLength;
    }
  }
  const modelJson = {
    modelTopology: artifacts.modelTopology,
    format: 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: null,
    weightsManifest: [{ paths: [shardName], weights: outSpecs }],
  };
  return { modelJson: JSON.stringify(modelJson), weights };
}

function float32ToFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < values.length; i++) {
    f[0] = values[i];
    const x = u[0];
    const sign = (x >>> 16) & 0x8000;
    let exp = ((x >>> 23) & 0xff) - 127 + 15;
    let mant = x & 0x7fffff;
    if (exp <= 0) {
      // Subnormal or zero in half precision.
      if (exp < -10) {
        out[i] = sign;
        continue;
      }
      mant = (mant | 0x800000) >> (1 - exp);
      out[i] = sign | ((mant + 0x1000) >> 13);
      continue;
    }
    if (exp >= 31) {
      out[i] = sign | 0x7c00;
      continue;
    }
    // Round to nearest.
    mant += 0x1000;
    if (mant & 0x800000) {
      mant = 0;
      exp += 1;
      if (exp >= 31) {
        out[i] = sign | 0x7c00;
        continue;
      }
    }
    out[i] = sign | (exp << 10) | (mant >> 13);
  }
  return out;
}

/**
 * A reader that starts fetching every file of a model at once — model.json and metadata.json now,
 * the weight shards as soon as model.json names them — and hands each file out when asked.
 * The inference worker uses it to download the model while the backend initialises (the wasm
 * binary compiles in the meantime) instead of after. Failures surface when the file is asked for,
 * with loadModelFiles' usual messages; nothing is fetched twice.
 */
export function prefetchingReader(read: FileReader, modelJsonPath = 'model.json', extra: string[] = ['metadata.json']): FileReader {
  const started = new Map<string, Promise<Uint8Array>>();
  const get = (p: string): Promise<Uint8Array> => {
    let f = started.get(p);
    if (!f) {
      f = read(p);
      f.catch(() => {}); // reported to whoever asks for the file
      started.set(p, f);
    }
    return f;
  };
  for (const p of extra) get(p);
  const dir = modelJsonPath.includes('/') ? modelJsonPath.slice(0, modelJsonPath.lastIndexOf('/') + 1) : '';
  get(modelJsonPath).then(
    (bytes) => {
      try {
        const json = JSON.parse(new TextDecoder().decode(bytes)) as tf.io.ModelJSON;
        for (const group of json.weightsManifest ?? []) for (const p of group.paths ?? []) get(dir + p);
      } catch {
        /* not JSON: loadModelFiles explains it when it reads model.json */
      }
    },
    () => {},
  );
  return get;
}
