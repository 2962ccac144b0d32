// Concurrency: async reads keep program order (a read sees the value at the point it was issued, even
// when the tensor is updated in place or disposed before the read settles); jitted functions driven
// from concurrent async tasks give the same results as run one after the other; and a worker thread
// that dies in the wasm pool surfaces as a KilnError at once (or after the pool's timeout), never a
// hang, and the next launch works on fresh workers.
import { describe, expect, it } from 'vitest';
import * as K from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { createWasmDevice } from '../../src/codegen/wasm/device.js';
import { threadsAvailable } from '../../src/codegen/wasm/threads.js';
import { hostArray } from '../../src/ir/array.js';

const tick = () => new Promise<void>((r) => setTimeout(r, 0));

describe('async reads keep program order', () => {
  for (const device of ['cpu-ref', 'wasm']) {
    it(`on ${device}: reads issued between ops, in-place updates and dispose see the value at issue time`, async () => {
      const w = K.tensor([1, 2, 3], { device });
      const first = w.data();
      const y = K.mul(w, 10);
      const second = y.data();
      // An eager optimizer step updates the parameter in place after the read was issued.
      w._assign(K.add(w, 100));
      const third = w.data();
      const z = K.add(y, 1);
      const fourth = z.data();
      z.dispose(); // disposed while its read is pending
      const reads = await Promise.all([first, second, third, fourth]);
      expect(reads.map((r) => Array.from(r))).toEqual([[1, 2, 3], [10, 20, 30], [101, 102, 103], [11, 21, 31]]);
      // Interleaved with awaits and new work from another task: each read still sees its own point.
      const log: number[][] = [];
      let x = K.tensor([0, 0], { device });
      const other = (async () => {
        for (let i = 0; i < 5; i++) {
          K.mul(K.ones([64], { device }), i); // unrelated work on the same device
          await tick();
        }
      })();
      for (let i = 1; i <= 5; i++) {
        const pending = x.data();
        x = K.add(x, i);
        await tick();
        log.push(Array.from(await pending));
      }
      await other;
      expect(log).toEqual([[0, 0], [1, 1], [3, 3], [6, 6], [10, 10]]);
    });
  }
});

describe('jitted functions from concurrent async tasks', () => {
  for (const device of ['cpu-ref', 'wasm']) {
    it(`on ${device}: two jitted functions, each driven by its own task with awaits between calls, match eager`, async () => {
      const mlp = (x: Tensor, w: Tensor) => K.tanh(K.matmul(x, w));
      const norm = (x: Tensor) => K.softmax(K.mul(x, 3), { axis: -1 });
      const f = K.jit(mlp);
      const g = K.jit(norm);
      const inputs = Array.from({ length: 6 }, (_, i) => K.randn([4, 5], { key: K.randomKey(10 + i), device }));
      const w = K.randn([5, 5], { key: K.randomKey(99), device });
      const task = async (fn: (x: Tensor) => Tensor, reference: (x: Tensor) => Tensor) => {
        const out: { got: number[]; want: number[] }[] = [];
        for (const x of inputs) {
          const r = fn(x);
          await tick();
          out.push({ got: Array.from(await r.data()), want: Array.from(reference(x).dataSync()) });
        }
        return out;
      };
      const [a, b] = await Promise.all([task((x) => f(x, w), (x) => mlp(x, w)), task(g, norm)]);
      for (const { got, want } of [...a, ...b]) got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
      expect(f.stats().traces).toBe(1);
      expect(g.stats().traces).toBe(1);
    });
  }
});

describe.runIf(threadsAvailable)('a worker crash in the wasm thread pool', () => {
  const x = hostArray('float32', [600, 300], Array.from({ length: 600 * 300 }, (_, i) => Math.sin(i)));
  const tanh = (d: ReturnType<typeof createWasmDevice>) => d.readSync(d.execute('tanh', [d.upload(x)], {}, [])[0]);

  it('a worker whose thread exits surfaces as a KilnError at once; the next launch uses fresh workers', () => {
    const d = createWasmDevice({ threads: 2 });
    const want = Array.from(tanh(d).data);
    expect(d.stats().parallelLaunches).toBe(1);
    d._pool!._crashWorkerForTest(0, 'exit');
    const t0 = Date.now();
    expect(() => tanh(d)).toThrow(/wasm: a worker thread exited while running a job \(run\).*fresh workers/);
    expect(Date.now() - t0).toBeLessThan(20_000); // not the 60 s timeout (no timing asserted beyond "no hang")
    expect(Array.from(tanh(d).data)).toEqual(want);
    d.threads = 1;
  });

  it('a worker killed from outside (no goodbye) is an error after the pool timeout, then the pool recovers', () => {
    const d = createWasmDevice({ threads: 2 });
    const want = Array.from(tanh(d).data);
    d._pool!.timeoutMs = 300;
    d._pool!._crashWorkerForTest(0, 'terminate');
    expect(() => tanh(d)).toThrow(/wasm: a worker thread did not finish \(run\) within 0.3 s/);
    expect(Array.from(tanh(d).data)).toEqual(want);
    d.threads = 1;
  });
});
