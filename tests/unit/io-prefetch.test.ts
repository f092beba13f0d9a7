// prefetchingReader: the inference worker downloads a model's files while the backend starts.
import { describe, expect, it } from 'vitest';
import { prefetchingReader } from '../../src/ml/io';

const enc = (s: string) => new TextEncoder().encode(s);
const modelJson = JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['a.bin', 'b.bin'], weights: [] }] });

function fakeFolder(files: Record<string, Uint8Array>) {
  const asked: string[] = [];
  const read = async (p: string) => {
    asked.push(p);
    await new Promise((r) => setTimeout(r, 5));
    const f = files[p];
    if (!f) throw new Error(`${p} missing`);
    return f;
  };
  return { read, asked };
}

describe('prefetchingReader', () => {
  it('starts model.json, metadata.json and every shard before anyone asks, and fetches each once', async () => {
    const { read, asked } = fakeFolder({ 'model.json': enc(modelJson), 'metadata.json': enc('{}'), 'a.bin': new Uint8Array(3), 'b.bin': new Uint8Array(4) });
    const get = prefetchingReader(read);
    await new Promise((r) => setTimeout(r, 30)); // nothing asked yet: the downloads run on their own
    expect([...asked].sort()).toEqual(['a.bin', 'b.bin', 'metadata.json', 'model.json']);
    expect((await get('b.bin')).byteLength).toBe(4);
    expect((await get('model.json')).byteLength).toBe(modelJson.length);
    await get('a.bin');
    expect(asked.length).toBe(4);
  });

  it('reports a missing shard to whoever asks for it, naming the file, and nothing goes unhandled', async () => {
    const { read } = fakeFolder({ 'model.json': enc(modelJson), 'metadata.json': enc('{}'), 'a.bin': new Uint8Array(3) });
    const get = prefetchingReader(read);
    await new Promise((r) => setTimeout(r, 30));
    await expect(get('b.bin')).rejects.toThrow('b.bin missing');
  });

  it('leaves a model.json that is not JSON to the loader (no shard guessed, no crash)', async () => {
    const { read, asked } = fakeFolder({ 'model.json': enc('<html>'), 'metadata.json': enc('{}') });
    const get = prefetchingReader(read);
    await new Promise((r) => setTimeout(r, 30));
    expect([...asked].sort()).toEqual(['metadata.json', 'model.json']);
    expect(new TextDecoder().decode(await get('model.json'))).toBe('<html>');
  });
});
