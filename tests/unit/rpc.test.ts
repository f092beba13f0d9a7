// src/worker/rpc.ts over real MessageChannel pairs (Node's structured clone and transfer, as between
// a page and a worker): replies, errors, progress, transfer, unsolicited events, abort before and
// during a call (the worker's handler sees it and its result never arrives), no leaks.
import { afterEach, describe, expect, it } from 'vitest';
import { setMaxListeners } from 'node:events';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { RpcClient, isAbortError, serve, type Endpoint, type Served } from '../../src/worker/rpc';

type TestMap = {
  add: { request: { a: number; b: number }; reply: number };
  fail: { request: { message: string; kind?: string }; reply: never };
  count: { request: { to: number }; reply: string; progress: { at: number } };
  bytes: { request: { data: Uint8Array }; reply: { sum: number; back: Uint8Array } };
  slow: { request: { steps: number }; reply: { steps: number } };
  push: { request: { n: number }; reply: null };
};
type TestEvents = { tick: { n: number } };

const ports: MessagePort[] = [];
afterEach(() => {
  for (const p of ports.splice(0)) p.close();
});

const tick = () => new Promise((r) => setTimeout(r, 2));

/** A client and a served "worker" on the two ends of a fresh MessageChannel. */
function pair(): { client: RpcClient<TestMap, TestEvents>; served: Served<TestEvents>; work: { slowSteps: number; sawAbort: boolean } } {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  const work = { slowSteps: 0, sawAbort: false };
  const served: Served<TestEvents> = serve<TestMap, TestEvents>(
    port2 as unknown as Endpoint,
    {
      add: ({ a, b }) => a + b,
      fail: ({ message, kind }) => {
        throw Object.assign(new Error(message), { kind });
      },
      count: async ({ to }, { progress }) => {
        for (let i = 1; i <= to; i++) progress({ at: i });
        return `counted to ${to}`;
      },
      bytes: ({ data }, { transfer }) => {
        const back = data.map((v) => v * 2);
        transfer(back.buffer);
        return { sum: data.reduce((s, v) => s + v, 0), back };
      },
      slow: async ({ steps }, { signal }) => {
        for (let i = 0; i < steps; i++) {
          if (signal.aborted) {
            work.sawAbort = true;
            signal.throwIfAborted();
          }
          work.slowSteps++;
          await tick();
        }
        return { steps };
      },
      push: ({ n }) => {
        for (let i = 0; i < n; i++) served.emit('tick', { n: i });
        return null;
      },
    },
    { errorOf: (e) => ({ message: (e as Error).message, kind: (e as { kind?: string }).kind }) },
  );
  const client = new RpcClient<TestMap, TestEvents>(port1 as unknown as Endpoint, {
    makeError: (e) => Object.assign(new Error(e.message), { kind: e.kind ?? 'internal' }),
  });
  return { client, served, work };
}

describe('rpc', () => {
  it('a call resolves with the handler’s return value, in order, many at once', async () => {
    const { client } = pair();
    const sums = await Promise.all(Array.from({ length: 50 }, (_, i) => client.call('add', { a: i, b: 1000 })));
    expect(sums).toEqual(Array.from({ length: 50 }, (_, i) => i + 1000));
  });

  it('a throwing handler rejects the call with the worker’s message and kind; the connection keeps working', async () => {
    const { client } = pair();
    await expect(client.call('fail', { message: 'no model loaded', kind: 'not-loaded' })).rejects.toMatchObject({
      message: 'no model loaded',
      kind: 'not-loaded',
    });
    expect(await client.call('add', { a: 2, b: 3 })).toBe(5);
  });

  it('progress events arrive before the reply, each once', async () => {
    const { client } = pair();
    const seen: number[] = [];
    const reply = await client.call('count', { to: 5 }, { onProgress: (p) => seen.push(p.at) });
    expect(reply).toBe('counted to 5');
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it('transfer lists move buffers both ways (the sender’s copy is detached)', async () => {
    const { client } = pair();
    const data = new Uint8Array([1, 2, 3, 4]);
    const reply = await client.call('bytes', { data }, { transfer: [data.buffer] });
    expect(data.byteLength).toBe(0); // moved, not copied
    expect(reply.sum).toBe(10);
    expect([...reply.back]).toEqual([2, 4, 6, 8]);
  });

  it('an unknown request type is an error, not a hang', async () => {
    const { client } = pair();
    await expect((client as unknown as RpcClient<{ nope: { request: null; reply: null } }>).call('nope', null)).rejects.toThrow(/unknown request type 'nope'/);
  });

  it('unsolicited events reach their listeners until unsubscribed', async () => {
    const { client } = pair();
    const got: number[] = [];
    const any: string[] = [];
    const off = client.on('tick', (e) => got.push(e.n));
    const offAny = client.onAny((type, e) => any.push(`${type} ${e.n}`));
    await client.call('push', { n: 3 });
    await tick();
    expect(got).toEqual([0, 1, 2]);
    expect(any).toEqual(['tick 0', 'tick 1', 'tick 2']);
    off();
    offAny();
    await client.call('push', { n: 2 });
    await tick();
    expect(got).toEqual([0, 1, 2]);
    expect(any).toHaveLength(3);
  });

  it('a signal aborted before the call rejects with AbortError and sends nothing', async () => {
    const { client, work } = pair();
    const ac = new AbortController();
    ac.abort();
    const e = await client.call('slow', { steps: 3 }, { signal: ac.signal }).catch((x) => x);
    expect(isAbortError(e)).toBe(true);
    await tick();
    expect(work.slowSteps).toBe(0);
  });

  it('aborting during a call rejects at once, stops the worker’s handler at its next check, and no reply arrives', async () => {
    const { client, served, work } = pair();
    const ac = new AbortController();
    const call = client.call('slow', { steps: 200 }, { signal: ac.signal });
    while (work.slowSteps < 3) await tick();
    ac.abort();
    const e = await call.catch((x) => x);
    expect(isAbortError(e)).toBe(true);
    expect(client.inFlight).toBe(0);
    while (served.inFlight > 0) await tick();
    expect(work.sawAbort).toBe(true);
    expect(work.slowSteps).toBeLessThan(20);
    expect(served.aborted).toBe(1);
    // Other calls are unaffected.
    expect(await client.call('add', { a: 1, b: 1 })).toBe(2);
  });

  it('no listener or pending entry is left behind after many calls with one signal', async () => {
    const { client, served } = pair();
    const ac = new AbortController();
    setMaxListeners(200, ac.signal); // 100 calls share it at once
    let listeners = 0;
    const add = ac.signal.addEventListener.bind(ac.signal);
    const remove = ac.signal.removeEventListener.bind(ac.signal);
    ac.signal.addEventListener = ((...a: Parameters<typeof add>) => {
      listeners++;
      add(...a);
    }) as typeof add;
    ac.signal.removeEventListener = ((...a: Parameters<typeof remove>) => {
      listeners--;
      remove(...a);
    }) as typeof remove;
    for (let round = 0; round < 10; round++) {
      await Promise.all(Array.from({ length: 100 }, (_, i) => client.call('add', { a: i, b: round }, { signal: ac.signal })));
      await expect(client.call('fail', { message: 'x' }, { signal: ac.signal })).rejects.toThrow('x');
    }
    expect(listeners).toBe(0);
    expect(client.inFlight).toBe(0);
    expect(served.inFlight).toBe(0);
  });

  it('fail() rejects calls in flight and later ones (a crashed worker)', async () => {
    const { client } = pair();
    const call = client.call('slow', { steps: 100 });
    client.fail(new Error('the worker crashed'));
    await expect(call).rejects.toThrow('the worker crashed');
    await expect(client.call('add', { a: 1, b: 2 })).rejects.toThrow('the worker crashed');
  });
});
