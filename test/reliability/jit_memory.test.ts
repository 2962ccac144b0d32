// A jitted training step allocates nothing after warm-up: with the parameters donated (jit's
// {donate}), a synchronous loop with no GC keeps the wasm heap's size, its count of fresh blocks and
// memory() constant: intermediates live in the executable's planned scratch, and each step's outputs
// take the pooled blocks of the donated inputs the previous step freed.
import { expect, it } from 'vitest';
import * as K from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { getDevice } from '../../src/codegen/device.js';
import type { WasmDevice } from '../../src/codegen/wasm/device.js';

it('a donated jitted MLP step on wasm: no heap growth, no fresh blocks, flat memory() in a synchronous loop', () => {
  const device = 'wasm';
  const x = K.randn([16, 8], { key: K.randomKey(3), device });
  const y = K.tensor(Array.from({ length: 16 }, (_, i) => i % 4), { dtype: 'int32', device });
  const init = (shape: number[], seed: number) => K.mul(K.randn(shape, { key: K.randomKey(seed), device }), 0.3);
  let params: Record<string, Tensor> = { w1: init([8, 32], 1), b1: K.zeros([32], { device }), w2: init([32, 4], 2), b2: K.zeros([4], { device }) };
  const lossFn = (p: Record<string, Tensor>, xb: Tensor, yb: Tensor) => K.crossEntropy(K.add(K.matmul(K.relu(K.add(K.matmul(xb, p.w1), p.b1)), p.w2), p.b2), yb);
  const step = K.jit(
    (p: Record<string, Tensor>, xb: Tensor, yb: Tensor) => {
      const [loss, g] = K.valueAndGrad(lossFn)(p, xb, yb) as [Tensor, Record<string, Tensor>];
      return { loss, params: Object.fromEntries(Object.entries(p).map(([k, v]) => [k, K.sub(v, K.mul(g[k], 0.1))])) };
    },
    { donate: ['p'] },
  );
  const heap = (getDevice(device) as WasmDevice).heap;
  const seen: unknown[] = [];
  const losses: number[] = [];
  for (let i = 0; i < 40; i++) {
    const old = params;
    const out = step(params, x, y);
    params = out.params;
    losses.push(Number(out.loss.item()));
    out.loss.dispose();
    if (i === 0) expect(Object.values(old).every((t) => t.isDisposed)).toBe(true); // donated
    const st = heap.stats();
    seen.push({ memoryBytes: st.memoryBytes, fresh: st.freshAllocations, live: K.memory().byDevice[device] });
  }
  expect(step.stats().traces).toBe(1);
  expect(losses[39]).toBeLessThan(losses[0]);
  for (const s of seen.slice(3)) expect(s).toEqual(seen[2]);
});
