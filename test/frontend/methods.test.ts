import { describe, expect, it } from 'vitest';
import * as K from '../../src/index.js';
import { tensor, Tensor, KilnError, jit } from '../../src/index.js';
import { look, expectKilnError } from './api_helpers.js';

// x has no zeros and mixed signs; every method must equal its function on the same arguments.
const x = () => tensor([[0.5, -1.5, 2], [3, -0.25, 1]]);
const y = () => tensor([2, -1, 0.5]);
const pos = () => tensor([[0.5, 1.5, 2], [3, 0.25, 1]]);
const ints = () => tensor([[3, -7, 2], [5, 4, -1]], { dtype: 'int32' });

type Case = [name: string, self: () => Tensor, args: unknown[], fn: (...a: any[]) => Tensor | Tensor[]];
const cases: Case[] = [
  ...(['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr'] as const).map(
    (n): Case => [n, n === 'pow' ? pos : x, [y()], (K as any)[n]],
  ),
  ['mod', ints, [3], K.mod],
  ['floorDiv', ints, [2], K.floorDiv],
  ...(['neg', 'abs', 'exp', 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'erf', 'floor', 'ceil', 'round', 'sign', 'isnan', 'square', 'expm1', 'logicalNot'] as const).map(
    (n): Case => [n, x, [], (K as any)[n]],
  ),
  ...(['log', 'log1p', 'sqrt', 'rsqrt'] as const).map((n): Case => [n, pos, [], (K as any)[n]]),
  ['astype', x, ['int32'], K.astype],
  ['clip', x, [-1, 1], K.clip],
  ['sum', x, [{ axis: 1 }], K.sum],
  ['mean', x, [{ axis: 0, keepdims: true }], K.mean],
  ['var', x, [{ axis: 1, correction: 0 }], K.variance],
  ['std', x, [{}], K.std],
  ['max', x, [{ axis: -1 }], K.max],
  ['min', x, [], K.min],
  ['prod', x, [{ axis: 0 }], K.prod],
  ['all', x, [{ axis: 1 }], K.all],
  ['any', x, [], K.any],
  ['argmax', x, [{ axis: 1 }], K.argmax],
  ['argmin', x, [], K.argmin],
  ['logSumExp', x, [{ axis: 1 }], K.logSumExp],
  ['cumsum', x, [{ axis: 0 }], K.cumsum],
  ['reshape', x, [[3, 2]], K.reshape],
  ['flatten', x, [], K.flatten],
  ['squeeze', () => tensor([[1], [2]]), [1], K.squeeze],
  ['unsqueeze', x, [-1], K.unsqueeze],
  ['transpose', x, [], K.transpose],
  ['permute', x, [[1, 0]], K.permute],
  ['swapaxes', x, [0, 1], K.swapaxes],
  ['broadcastTo', y, [[2, 3]], K.broadcastTo],
  ['expand', () => tensor([[1], [2]]), [[-1, 4]], K.expand],
  ['flip', x, [1], K.flip],
  ['pad', x, [[[1, 0], [0, 1]], { value: 9 }], K.pad],
  ['tile', y, [[2]], K.tile],
  ['split', x, [[1, 2], 1], K.split],
  ['chunk', x, [2, 0], K.chunk],
  ['index', x, [-1, '::-1'], K.index],
  ['slice', x, [[0, 1], [1, 3]], K.slice],
  ['take', x, [[0, -1], { axis: 1 }], K.take],
  ['gather', x, [tensor([[1], [0]], { dtype: 'int32' }), { axis: 1 }], K.gather],
  ['oneHot', () => tensor([0, 2], { dtype: 'int32' }), [3], K.oneHot],
];

describe('Tensor methods equal their functions', () => {
  it.each(cases)('%s', (name, self, args, fn) => {
    const t = self();
    const viaMethod = (t as any)[name](...args) as Tensor | Tensor[];
    const viaFunction = fn(t, ...args);
    const norm = (r: Tensor | Tensor[]) => (Array.isArray(r) ? r.map(look) : look(r));
    expect(norm(viaMethod)).toEqual(norm(viaFunction));
  });

  it('chains read like PyTorch', () => {
    const r = x().add(1).mul(y()).sum({ axis: 1, keepdims: true }).reshape([2]);
    // (x + 1) * y summed over rows: [1.5*2 + -0.5*-1 + 3*0.5, 4*2 + 0.75*-1 + 2*0.5]
    expect(r.tolist()).toEqual([5, 8.25]);
    expect(x().T.shape).toEqual([3, 2]);
  });

  it('every method is a non-enumerable prototype property (for..in over a tensor stays clean)', () => {
    const keys: string[] = [];
    for (const k in tensor([1])) keys.push(k);
    for (const [name] of cases) expect(keys).not.toContain(name);
    for (const [name] of cases) expect(typeof (Tensor.prototype as any)[name]).toBe('function');
  });
});

describe('t.to(device)', () => {
  it('same device is the tensor itself; unknown devices are errors', () => {
    const t = tensor([1, 2]);
    expect(t.to(t.device)).toBe(t);
    expectKilnError(() => t.to('tpu'), /unknown device 'tpu'/);
  });

  it('inside jit it is an error', () => {
    // Another device than the argument's (the default follows KILN_DEVICE): moving to its own device is a no-op.
    const x = tensor([1]);
    const other = K.deviceNames().find((n) => n !== x.device && n !== 'webgpu') ?? 'tpu';
    expectKilnError(() => jit((a: Tensor) => a.to(other))(x), 'to', /traced/);
  });
});

describe('tensor()', () => {
  it('nested arrays, typed arrays, scalars, dtype option', () => {
    expect(look(tensor([[1, 2], [3, 4]], { dtype: 'int32' }))).toEqual({ dtype: 'int32', shape: [2, 2], values: [[1, 2], [3, 4]] });
    expect(look(tensor(new Int32Array([5, -6])))).toEqual({ dtype: 'int32', shape: [2], values: [5, -6] });
    expect(look(tensor([[true], [false]]))).toEqual({ dtype: 'bool', shape: [2, 1], values: [[true], [false]] });
    expect(look(tensor([]))).toEqual({ dtype: 'float32', shape: [0], values: [] });
    expect(look(tensor([[]]))).toEqual({ dtype: 'float32', shape: [1, 0], values: [[]] });
  });

  it('ragged nested arrays, non-numbers and bad dtypes are KilnErrors naming tensor', () => {
    expectKilnError(() => tensor([[1, 2], [3]]), 'tensor', /ragged/, /\[1\]/, /length 1/);
    expectKilnError(() => tensor([[1, 2], 3] as never), 'tensor', /ragged/);
    expectKilnError(() => tensor([1, [2]] as never), 'tensor', /ragged/);
    expectKilnError(() => tensor(['a'] as never), 'tensor', /string/);
    expectKilnError(() => tensor([1], { dtype: 'uint8' as never }), 'tensor', /unknown dtype 'uint8'/);
    expectKilnError(() => tensor([1], { dtype: 'int32', requiresGrad: true }), 'tensor', /float/, /i32\[1\]/);
  });

  it('wrong dtypes reaching a primitive name the op and the types', () => {
    expectKilnError(() => K.bitwiseNot(tensor([1.5])), 'not');
    expect(() => K.oneHot(tensor([0.5]), 2)).toThrow(KilnError);
  });
});
