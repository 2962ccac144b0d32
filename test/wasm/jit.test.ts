// The public API on device 'wasm': jitted functions (fused kernels, control flow, gradients) equal
// the same code run eagerly on 'wasm' and on 'cpu-ref'.
import { describe, expect, it } from 'vitest';
import * as k from '../../src/index.js';
import type { Tensor } from '../../src/index.js';

const on = (device: string, data: number[], shape: number[]) => k.tensor(data, { device }).reshape(shape);
const values = (seed: number, n: number) => Array.from({ length: n }, (_, i) => Math.sin(seed * 7.1 + i * 1.3) * 2);

function close(a: Tensor, b: Tensor, tol = 2e-5): void {
  expect(a.shape).toEqual(b.shape);
  const x = a.dataSync();
  const y = b.dataSync();
  for (let i = 0; i < x.length; i++) expect(Math.abs(x[i] - y[i])).toBeLessThanOrEqual(tol * (1 + Math.abs(y[i])));
}

describe("jit on 'wasm' equals eager", () => {
  const mlp = (x: Tensor, w1: Tensor, b1: Tensor, w2: Tensor) => k.softmax(k.matmul(k.relu(k.add(k.matmul(x, w1), b1)), w2), { axis: -1 });

  it('an MLP with softmax: jit(wasm) = eager(wasm) = eager(cpu-ref)', () => {
    const args = (d: string) => [on(d, values(1, 6 * 20), [6, 20]), on(d, values(2, 20 * 33), [20, 33]), on(d, values(3, 33), [33]), on(d, values(4, 33 * 7), [33, 7])] as const;
    const f = k.jit(mlp);
    const jitted = f(...args('wasm'));
    close(jitted, mlp(...args('wasm')));
    close(jitted, mlp(...args('cpu-ref')));
    expect(f.stats().traces).toBe(1);
  });

  it('gradients of a loss under jit match eager gradients on cpu-ref', () => {
    const loss = (w: Tensor, x: Tensor) => k.mean(k.tanh(k.matmul(x, w)));
    const grad = (d: string) => k.grad(loss)(on(d, values(5, 12), [4, 3]), on(d, values(6, 20), [5, 4])) as Tensor;
    close(k.jit((w: Tensor, x: Tensor) => k.grad(loss)(w, x) as Tensor)(on('wasm', values(5, 12), [4, 3]), on('wasm', values(6, 20), [5, 4])), grad('cpu-ref'));
    close(grad('wasm'), grad('cpu-ref'));
  });

  it('structured control flow compiles to host-side loops', () => {
    const f = (x: Tensor) => k.whileLoop((c: [Tensor, Tensor]) => k.lt(c[1], 5), (c: [Tensor, Tensor]) => [k.add(k.mul(c[0], 0.5), 1), k.add(c[1], 1)] as [Tensor, Tensor], [x, k.tensor(0, { device: x.device })])[0];
    close(k.jit(f)(on('wasm', values(7, 8), [8])), f(on('cpu-ref', values(7, 8), [8])));
  });
});
