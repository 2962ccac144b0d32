// Composite ops place the tensors they make (constants, converted plain arrays, iotas, masks, gradient
// helpers) on their inputs' device, not the default one: results and gradients match the same call
// made with that device as the default, in both directions between 'cpu-ref' and 'wasm'.
import { describe, expect, it } from 'vitest';
import * as K from '../../src/index.js';
import type { Tensor } from '../../src/index.js';

const DEVICES = ['cpu-ref', 'wasm'] as const;

/** Fixed non-zero data of a shape, on `device`. */
function data(shape: number[], seed: number, device: string): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: n }, (_, i) => Math.sin(seed * 7.3 + i * 1.7) * 1.5 + 0.01);
  return K.reshape(K.tensor(v, { device }), shape);
}

/** The default device for the length of fn (the user's setDefaultDevice, restored after). */
function withDefault<T>(device: string, fn: () => T): T {
  const prev = K.defaultDevice();
  K.setDefaultDevice(device);
  try {
    return fn();
  } finally {
    K.setDefaultDevice(prev);
  }
}

type Case = [string, number[], (x: Tensor) => Tensor];
const cases: Case[] = [
  ['linear with a plain bias', [2, 3], (x) => K.linear(x, K.concat([x, K.neg(x)], 0), [0.5, -1, 2, 0.25])],
  ['dropout with a seed key', [4, 5], (x) => K.dropout(x, 0.5, { key: 3 })],
  ['dropout with a plain key', [4, 5], (x) => K.dropout(x, 0.25, { key: [1, 2] })],
  ['rmsNorm with a plain weight', [2, 3], (x) => K.rmsNorm(x, 3, { weight: [1, 2, 0.5] })],
  ['layerNorm with plain weight and bias', [2, 3], (x) => K.layerNorm(x, 3, { weight: [1, 2, 0.5], bias: [0.1, 0, -0.1] })],
  ['batchNorm with plain running statistics', [2, 3, 2], (x) => K.batchNorm(x, [0.1, -0.2, 0.3], [1, 2, 0.5], { weight: [1, 2, 3], bias: [0, 1, 0] })],
  ['batchNorm training', [2, 3, 2], (x) => K.batchNorm(x, null, null, { training: true, weight: [1, 2, 3] })],
  ['groupNorm with plain weight and bias', [2, 4, 2], (x) => K.groupNorm(x, 2, { weight: [1, 2, 3, 4], bias: [0, 1, 0, -1] })],
  ['crossEntropy with plain class indices', [3, 4], (x) => K.crossEntropy(x, [0, 2, 1])],
  ['crossEntropy with weights, smoothing and ignoreIndex', [3, 4], (x) => K.crossEntropy(x, [0, 2, 3], { weight: [1, 2, 0.5, 1], labelSmoothing: 0.1, ignoreIndex: 2 })],
  ['crossEntropy with plain probabilities', [2, 3], (x) => K.crossEntropy(x, [[0.2, 0.3, 0.5], [1, 0, 0]])],
  ['crossEntropy spatial, no reduction', [2, 3, 2], (x) => K.crossEntropy(x, [[0, 2], [1, 1]], { reduction: 'none' })],
  ['nllLoss with weights', [3, 4], (x) => K.nllLoss(K.logSoftmax(x, { axis: 1 }), [3, 0, 1], { weight: [1, 2, 3, 4] })],
  ['binaryCrossEntropyWithLogits with plain weights', [2, 3], (x) => K.binaryCrossEntropyWithLogits(x, [[1, 0, 1], [0, 0, 1]], { posWeight: [1, 2, 3], weight: [[1, 1, 2], [2, 1, 1]] })],
  ['mseLoss with a plain target', [2, 3], (x) => K.mseLoss(x, [[1, 0, 1], [0, 0, 1]])],
  ['conv2d with a plain bias', [1, 2, 4, 4], (x) => K.conv2d(x, K.index(x, ':', ':', '0:3', '0:3'), { bias: [0.5], padding: 1 })],
  ['take with plain indices', [2, 3], (x) => K.take(x, [2, 0, 2], { axis: 1 })],
  ['gather with plain indices', [2, 3], (x) => K.gather(x, [[2, 1], [0, 0]], { axis: 1 })],
  ['scatterAdd with plain indices and updates', [2, 3], (x) => K.scatterAdd(x, [1, 1], K.mul(K.index(x, ':', '0:2'), 2), { axis: 1 })],
  ['where with a plain condition', [2, 3], (x) => K.where([[true, false, true], [false, true, true]], x, K.neg(x))],
  ['concat with a plain array', [2, 3], (x) => K.concat([x, [[1, 2, 3]]], 0)],
  ['einsum with a plain operand', [2, 3], (x) => K.einsum('ij,j->i', x, [1, -1, 2])],
];

const other = (d: string) => DEVICES.find((o) => o !== d)!;
const sumOf = (f: (x: Tensor) => Tensor) => (x: Tensor) => K.sum(f(x));

describe.each(DEVICES)('inputs on %s', (device) => {
  it.each(cases)('%s: result and gradient stay with the input', (_, shape, f) => {
    const [want, wantGrad] = withDefault(device, () => {
      const x = data(shape, 5, device);
      return [f(x), K.grad(sumOf(f))(x) as Tensor];
    });
    const [got, gotGrad] = withDefault(other(device), () => {
      const x = data(shape, 5, device);
      return [f(x), K.grad(sumOf(f))(x) as Tensor];
    });
    expect(got.device).toBe(device);
    expect(gotGrad.device).toBe(device);
    expect(got.shape).toEqual(want.shape);
    expect([...got.dataSync()]).toEqual([...want.dataSync()]);
    expect([...gotGrad.dataSync()]).toEqual([...wantGrad.dataSync()]);
  });

  it('works under jit with the default device elsewhere', () => {
    const f = (x: Tensor) => K.crossEntropy(K.dropout(K.linear(x, x, [1, 2]), 0.5, { key: 7 }), [1, 0], { weight: [2, 1] });
    const want = withDefault(device, () => f(data([2, 2], 9, device)));
    const got = withDefault(other(device), () => K.jit(f)(data([2, 2], 9, device)) as Tensor);
    expect(got.device).toBe(device);
    expect(got.dataSync()[0]).toBeCloseTo(want.dataSync()[0], 5);
  });
});

describe('withDevice', () => {
  it('places new tensors inside the scope and restores the default after, also on throw', () => {
    const before = K.defaultDevice();
    const inside = other(before);
    expect(K.withDevice(inside, () => K.tensor([1, 2]).device)).toBe(inside);
    expect(K.withDevice(inside, () => K.withDevice(before, () => K.defaultDevice()))).toBe(before);
    expect(() => K.withDevice(inside, () => {
      throw new Error('boom');
    })).toThrow('boom');
    expect(K.defaultDevice()).toBe(before);
    expect(K.tensor([1]).device).toBe(before);
  });
});
