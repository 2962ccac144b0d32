// The ONNX models the bench builds in code (bench/peers/onnx_model.ts) load and compute the right
// numbers in onnxruntime-node: a softmax-of-relu(matmul + bias) with a baked weight, and a padded conv.
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { onnxModel } from '../../bench/peers/onnx_model.js';
import { ortImpl } from '../../bench/workloads/common.js';
import { measureCell } from '../../bench/harness.js';
import type { Row } from '../../bench/harness.js';
import type { Env } from '../../bench/systems.js';

let installed = true;
try {
  createRequire(import.meta.url).resolve('onnxruntime-node');
} catch {
  installed = false;
}

describe.skipIf(!installed)(`onnx models built in code run in onnxruntime-node${installed ? '' : ' (skipped: onnxruntime-node is not installed)'}`, () => {
  it('matmul, bias, relu, softmax with initializers and attributes', async () => {
    const ort = (await import('onnxruntime-node')).default;
    const w = Float32Array.from([0.5, -1, 2, 0.25, -0.75, 1.5]); // [3, 2]
    const model = onnxModel({
      name: 'head',
      inputs: [{ name: 'x', shape: [2, 3] }],
      outputs: [{ name: 'y', shape: [2, 2] }],
      initializers: [{ name: 'w', shape: [3, 2], data: w }, { name: 'b', shape: [2], data: Float32Array.of(0.1, -0.2) }],
      nodes: [
        { op: 'MatMul', inputs: ['x', 'w'], outputs: ['m'] },
        { op: 'Add', inputs: ['m', 'b'], outputs: ['a'] },
        { op: 'Relu', inputs: ['a'], outputs: ['r'] },
        { op: 'Softmax', inputs: ['r'], outputs: ['y'], attrs: { axis: -1 } },
      ],
    });
    const session = await ort.InferenceSession.create(model);
    const x = Float32Array.from([1, 2, 3, -1, 0.5, 2]);
    const y = (await session.run({ x: new ort.Tensor('float32', x, [2, 3]) })).y.data as Float32Array;
    const expected: number[] = [];
    for (let i = 0; i < 2; i++) {
      const r = [0, 1].map((j) => Math.max(0, [0, 1, 2].reduce((s, p) => s + x[i * 3 + p] * w[p * 2 + j], j === 0 ? 0.1 : -0.2)));
      const e = r.map((v) => Math.exp(v - Math.max(...r)));
      expected.push(...e.map((v) => v / (e[0] + e[1])));
    }
    Array.from(y).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    await session.release();
  });

  it('a 3x3 conv with int-list attributes (same padding)', async () => {
    const ort = (await import('onnxruntime-node')).default;
    const model = onnxModel({
      name: 'conv',
      inputs: [{ name: 'x', shape: [1, 1, 3, 3] }, { name: 'w', shape: [1, 1, 3, 3] }],
      outputs: [{ name: 'y', shape: [1, 1, 3, 3] }],
      nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } }],
    });
    const session = await ort.InferenceSession.create(model);
    const ones = (n: number) => new Float32Array(n).fill(1);
    const y = (await session.run({ x: new ort.Tensor('float32', ones(9), [1, 1, 3, 3]), w: new ort.Tensor('float32', ones(9), [1, 1, 3, 3]) })).y.data as Float32Array;
    expect(Array.from(y)).toEqual([4, 6, 4, 6, 9, 6, 4, 6, 4]);
    await session.release();
  });

  it("the bench's onnx-native cell: a session per cell, checked against the reference, then timed", async () => {
    const ort = (await import('onnxruntime-node')).default;
    const env = { ort, threads: 1 } as unknown as Env;
    const a = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i) + 0.1);
    const b = Float32Array.from({ length: 12 }, (_, i) => Math.cos(i) - 0.2);
    const ref: number[] = [];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) ref.push([0, 1, 2, 3].reduce((s, p) => s + a[i * 4 + p] * b[p * 3 + j], 0));
    const graph = { name: 'mm', inputs: [{ name: 'x0', shape: [3, 4] }, { name: 'x1', shape: [4, 3] }], outputs: [{ name: 'y', shape: [3, 3] }], nodes: [{ op: 'MatMul', inputs: ['x0', 'x1'], outputs: ['y'] }] };
    const inputs = [{ data: a, shape: [3, 4] }, { data: b, shape: [4, 3] }];
    const row: Row = { id: 'mm', title: 'mm', unit: 'µs', quick: true, tolerance: 1e-5, reference: () => ref, impls: { 'onnx-native': (e) => ortImpl(e, graph, inputs) } };
    const cell = await measureCell(row, 'onnx-native', env, ref, { maxTime: 0.05, minSamples: 2, firstCalls: 1, slowCalls: 1 });
    expect(cell.skipped).toBeUndefined();
    expect(cell.agreement?.ok).toBe(true);
    expect(cell.value).not.toBeNull();
  });
});

