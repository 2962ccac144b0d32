// Every primitive against the reference interpreter, on webgpu: eagerly (one-op kernels) and as a
// compiled one-op Function (the jit path, unfused), over several shapes and dtypes, with size-1 and
// size-0 edges, broadcasting (the broadcast primitive) and the int/bool semantics the spec defines.
import type { HostArray } from '../../../src/ir/array.js';
import { hostArray } from '../../../src/ir/array.js';
import type { DType } from '../../../src/ir/dtype.js';
import { Builder } from '../../../src/ir/builder.js';
import type { AnyAttrs, Primitive } from '../../../src/ir/ops.js';
import { BINARY_OPS, FLOAT_UNARY_OPS, PRIMITIVES, UNARY_OPS } from '../../../src/ir/ops.js';
import { evalPrimitive, interpret } from '../../../src/ir/interpret.js';
import { getDevice } from '../../../src/codegen/device.js';
import { assertClose, expect, randomArray, rng, test } from './check.js';

interface OpCase {
  name: string;
  prim: Primitive;
  inputs: HostArray[];
  attrs: AnyAttrs;
  rtol: number;
}

const cases: OpCase[] = [];
const r = rng(1234);
const add = (prim: Primitive, name: string, inputs: HostArray[], attrs: AnyAttrs = {}, rtol = 1e-4) => cases.push({ name: `${prim} ${name}`, prim, inputs, attrs, rtol });
const rand = (dtype: DType, shape: number[], lo?: number, hi?: number) => randomArray(r, dtype, shape, lo, hi);
/** Floats drawn from a few integers: ties for comparisons, max/min and argmax. */
const ties = (shape: number[]) => {
  const a = rand('int32', shape, -3, 3);
  return hostArray('float32', shape, a.data);
};

// ---- elementwise ---------------------------------------------------------------------------------
const DOMAIN: Partial<Record<Primitive, [number, number]>> = {
  log: [0.05, 4], sqrt: [0.05, 4], rsqrt: [0.05, 4], log1p: [-0.9, 4], exp: [-5, 5], erf: [-3.5, 3.5], expm1: [-3, 3],
};
for (const op of UNARY_OPS) {
  if (op !== 'not') {
    const [lo, hi] = DOMAIN[op] ?? [-3, 3];
    add(op, 'f32[7,33]', [rand('float32', [7, 33], lo, hi)]);
  }
  if (!FLOAT_UNARY_OPS.has(op)) add(op, 'i32[50]', [rand('int32', [50], -20, 20)]);
  if (op === 'not' || op === 'neg') add(op, 'bool[9]', [rand('bool', [9])]);
}
add('neg', 'f32[0,4] (empty)', [rand('float32', [0, 4])]);
// Special values: signed zeros, infinities, NaN, huge and tiny (flushing denormals to zero is allowed).
const SPECIAL = [0, -0, 1, -1, 0.5, -0.5, 1e-30, -1e-30, 3e38, -3e38, Infinity, -Infinity, NaN, 88.5, -88.5, 100, -100];
for (const op of ['neg', 'abs', 'relu', 'sign', 'floor', 'ceil', 'round', 'isnan', 'exp', 'tanh', 'sigmoid', 'sin', 'cos', 'erf', 'expm1', 'log1p'] as const) {
  // sin/cos reduce arguments accurately up to |x| = 1e5 only (beyond, the GPU's own sin/cos).
  const xs = op === 'sin' || op === 'cos' ? SPECIAL.filter((v) => !(Math.abs(v) > 1e5 && Number.isFinite(v))) : SPECIAL;
  add(op, 'f32 special values', [hostArray('float32', [xs.length], xs)]);
}
for (const op of ['add', 'mul', 'max', 'min', 'div', 'lt', 'eq', 'ne'] as const) {
  add(op, 'f32 special values', [hostArray('float32', [SPECIAL.length], SPECIAL), hostArray('float32', [SPECIAL.length], [...SPECIAL].reverse())]);
}
add('log', 'f32 special values', [hostArray('float32', [8], [0, -0, 1, -1, Infinity, NaN, 1e-30, 3e38])]);
add('sqrt', 'f32 special values', [hostArray('float32', [8], [0, -0, 1, -1, Infinity, NaN, 1e-30, 3e38])]);
add('exp', 'f32[] (scalar)', [rand('float32', [])]);
add('isnan', 'f32 with NaN/inf', [hostArray('float32', [6], [NaN, 1, Infinity, -Infinity, -0, 3])]);
add('erf', 'f32 small', [hostArray('float32', [5], [1e-4, -3e-3, 0.02, 0.5, 5])]);
add('log1p', 'f32 small', [hostArray('float32', [4], [1e-6, -1e-5, 3e-4, 1e3])]);
add('expm1', 'f32 small', [hostArray('float32', [4], [1e-6, -1e-5, 3e-4, 10])]);

const INT_BINARY = new Set(['add', 'sub', 'mul', 'div', 'pow', 'max', 'min', 'mod', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or']);
for (const op of BINARY_OPS) {
  if (op !== 'and' && op !== 'or') {
    const shape = [13, 21];
    let a = rand('float32', shape, -3, 3);
    let b = rand('float32', shape, -3, 3);
    if (op === 'div' || op === 'mod') b = hostArray('float32', shape, b.data.map((v) => (v < 0 ? v - 0.5 : v + 0.5)));
    if (op === 'pow') a = rand('float32', shape, 0.2, 3);
    if (['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'max', 'min'].includes(op)) [a, b] = [ties(shape), ties(shape)];
    add(op, 'f32[13,21]', [a, b]);
  }
  if (INT_BINARY.has(op)) {
    const lo = op === 'pow' ? -3 : -30;
    const hi = op === 'pow' ? 3 : 30;
    const b = op === 'pow' ? rand('int32', [64], -1, 6) : rand('int32', [64], op === 'div' || op === 'mod' ? -5 : -30, op === 'div' || op === 'mod' ? 5 : 30);
    add(op, 'i32[64]', [rand('int32', [64], lo, hi), b]);
  }
  if (['and', 'or', 'eq', 'ne', 'add', 'max', 'lt'].includes(op)) add(op, 'bool[17]', [rand('bool', [17]), rand('bool', [17])]);
}
add('pow', 'f32 negative bases, integer exponents', [hostArray('float32', [6], [-2, -1.5, -3, 0, -0, 2]), hostArray('float32', [6], [3, 2, -1, -2, 3, 0.5])]);
add('mul', 'i32 wraparound', [hostArray('int32', [3], [2147483647, -2147483648, 65536]), hostArray('int32', [3], [2, 3, 65536])]);
add('max', 'f32 NaN propagates', [hostArray('float32', [3], [NaN, 1, 2]), hostArray('float32', [3], [0, NaN, 1])]);

// ---- casts, select, constants ----------------------------------------------------------------------
const f = hostArray('float32', [8], [1.7, -1.7, 3e9, -3e9, NaN, 0.4, -0, 2.5]);
add('cast', 'f32->i32 (saturating, NaN->0)', [f], { dtype: 'int32' });
add('cast', 'f32->bool', [f], { dtype: 'bool' });
add('cast', 'i32->f32', [rand('int32', [20], -1000, 1000)], { dtype: 'float32' });
add('cast', 'bool->i32', [rand('bool', [20])], { dtype: 'int32' });
add('cast', 'bool->f32', [rand('bool', [20])], { dtype: 'float32' });
add('cast', 'i32->bool', [rand('int32', [20], -2, 2)], { dtype: 'bool' });
add('select', 'f32[6,7]', [rand('bool', [6, 7]), rand('float32', [6, 7]), rand('float32', [6, 7])]);
add('select', 'i32[9]', [rand('bool', [9]), rand('int32', [9]), rand('int32', [9])]);
add('constant', 'f32[2,3]', [], { value: [1, 2, 3, 4, 5, 6.5], dtype: 'float32', shape: [2, 3] });
add('constant', 'i32 splat [4]', [], { value: [7], dtype: 'int32', shape: [4] });
add('iota', 'i32[3,5] dim 1', [], { shape: [3, 5], dimension: 1, dtype: 'int32' });
add('iota', 'f32[4,2] dim 0', [], { shape: [4, 2], dimension: 0, dtype: 'float32' });

// ---- reductions ------------------------------------------------------------------------------------
for (const op of ['reduce_sum', 'reduce_max', 'reduce_min', 'reduce_prod'] as const) {
  const lo = op === 'reduce_prod' ? 0.8 : -2;
  const hi = op === 'reduce_prod' ? 1.25 : 2;
  add(op, 'f32[5,70] axis 1', [rand('float32', [5, 70], lo, hi)], { axes: [1] });
  add(op, 'f32[5,7] axis 0', [rand('float32', [5, 7], lo, hi)], { axes: [0] });
  add(op, 'f32[3,4,5] axes 0,2', [rand('float32', [3, 4, 5], lo, hi)], { axes: [0, 2] });
  add(op, 'f32[3,0] axis 1 (empty)', [rand('float32', [3, 0])], { axes: [1] });
}
add('reduce_sum', 'f32[4,1000] axis 1 (rows)', [rand('float32', [4, 1000])], { axes: [1] });
add('reduce_sum', 'f32[3,4,500] axes 0,2 (rows over a loop nest)', [rand('float32', [3, 4, 500])], { axes: [0, 2] });
add('argmin', 'f32[40,3,30] axis 0 (strided rows)', [ties([40, 3, 30])], { axis: 0 });
add('reduce_sum', 'f32[5000] all (one workgroup)', [rand('float32', [5000])], { axes: [0] });
add('reduce_max', 'f32[2,300] axis 1 (rows)', [rand('float32', [2, 300])], { axes: [1] });
add('reduce_sum', 'f32[2,40000] axis 1 (split rows)', [rand('float32', [2, 40000])], { axes: [1] });
add('reduce_sum', 'f32[100000] all (split)', [rand('float32', [100000])], { axes: [0] });
add('reduce_min', 'f32[3,35000] axis 1 (split rows)', [rand('float32', [3, 35000])], { axes: [1] });
add('reduce_max', 'i32[50000] all (split)', [rand('int32', [50000], -1000000, 1000000)], { axes: [0] });
add('reduce_sum', 'i32[6,40] axis 1', [rand('int32', [6, 40], -100, 100)], { axes: [1] });
add('reduce_prod', 'i32[4,9] axis 1', [rand('int32', [4, 9], -3, 3)], { axes: [1] });
add('reduce_max', 'bool[4,5] axis 1', [rand('bool', [4, 5])], { axes: [1] });
add('reduce_min', 'bool[4,5] axis 0', [rand('bool', [4, 5])], { axes: [0] });
for (const op of ['argmax', 'argmin'] as const) {
  add(op, 'f32[6,9] ties axis 1', [ties([6, 9])], { axis: 1 });
  add(op, 'f32[6,9] ties axis 0', [ties([6, 9])], { axis: 0 });
  add(op, 'f32[3,200] axis 1 (rows)', [ties([3, 200])], { axis: 1 });
  add(op, 'i32[5,8] axis 1', [rand('int32', [5, 8], -4, 4)], { axis: 1 });
  add(op, 'f32 NaN first', [hostArray('float32', [2, 4], [1, NaN, 3, NaN, 2, 2, 1, 0])], { axis: 1 });
  add(op, 'f32[2,40000] ties (split rows)', [ties([2, 40000])], { axis: 1 });
}

// ---- movement --------------------------------------------------------------------------------------
add('reshape', 'f32[6,4]->[3,8]', [rand('float32', [6, 4])], { shape: [3, 8] });
add('broadcast', 'f32[3,1]->[2,3,5]', [rand('float32', [3, 1])], { shape: [2, 3, 5], dims: [1, 2] });
add('broadcast', 'i32[]->[4,3]', [rand('int32', [])], { shape: [4, 3], dims: [] });
add('transpose', 'f32[2,3,4] perm 2,0,1', [rand('float32', [2, 3, 4])], { perm: [2, 0, 1] });
add('transpose', 'bool[5,3]', [rand('bool', [5, 3])], { perm: [1, 0] });
add('slice', 'f32[10,9] strided', [rand('float32', [10, 9])], { start: [1, 0], limit: [9, 9], stride: [3, 2] });
add('pad', 'f32[4,5] low/high/interior, negative low', [rand('float32', [4, 5])], { low: [1, -1], high: [2, 3], interior: [1, 0], value: 0.5 });
add('pad', 'i32[3] interior 2', [rand('int32', [3])], { low: [0], high: [0], interior: [2], value: -7 });
add('concat', 'f32 three parts axis 1', [rand('float32', [3, 2]), rand('float32', [3, 5]), rand('float32', [3, 1])], { axis: 1 });
add('concat', 'i32 axis 0 with an empty part', [rand('int32', [2, 3]), rand('int32', [0, 3]), rand('int32', [1, 3])], { axis: 0 });
add('flip', 'f32[3,4,5] axes 0,2', [rand('float32', [3, 4, 5])], { axes: [0, 2] });

// ---- contractions ----------------------------------------------------------------------------------
const dot = (contract: [number[], number[]], batch: [number[], number[]] = [[], []]) => ({ contract, batch });
add('dot_general', 'matmul f32[37,29]x[29,41]', [rand('float32', [37, 29]), rand('float32', [29, 41])], dot([[1], [0]]), 1e-3);
add('dot_general', 'matmul f32[130,70]x[70,150] (64-tiles, ragged)', [rand('float32', [130, 70]), rand('float32', [70, 150])], dot([[1], [0]]), 1e-3);
add('dot_general', 'batched f32[3,17,9]x[3,9,13]', [rand('float32', [3, 17, 9]), rand('float32', [3, 9, 13])], dot([[2], [1]], [[0], [0]]), 1e-3);
add('dot_general', 'vector-matrix f32[1,50]x[50,70]', [rand('float32', [1, 50]), rand('float32', [50, 70])], dot([[1], [0]]), 1e-3);
add('dot_general', 'transposed operands f32[20,6]x[9,20]', [rand('float32', [20, 6]), rand('float32', [9, 20])], dot([[0], [1]]), 1e-3);
add('dot_general', 'i32[7,5]x[5,3]', [rand('int32', [7, 5], -9, 9), rand('int32', [5, 3], -9, 9)], dot([[1], [0]]));
add('dot_general', 'inner product f32[100]x[100]', [rand('float32', [100]), rand('float32', [100])], dot([[0], [0]]), 1e-3);
const conv = (nd: number, o: Partial<{ stride: number[]; padding: [number, number][]; lhsDilation: number[]; rhsDilation: number[]; groups: number }> = {}) => ({
  stride: o.stride ?? new Array(nd).fill(1),
  padding: o.padding ?? new Array(nd).fill([0, 0]),
  lhsDilation: o.lhsDilation ?? new Array(nd).fill(1),
  rhsDilation: o.rhsDilation ?? new Array(nd).fill(1),
  groups: o.groups ?? 1,
});
add('conv', '2d 3x3 pad 1', [rand('float32', [2, 3, 9, 9]), rand('float32', [4, 3, 3, 3])], conv(2, { padding: [[1, 1], [1, 1]] }), 1e-3);
add('conv', '2d stride 2, dilation 2, groups 2', [rand('float32', [1, 4, 10, 10]), rand('float32', [6, 2, 3, 3])], conv(2, { stride: [2, 2], rhsDilation: [2, 2], groups: 2 }), 1e-3);
add('conv', '2d lhs dilation (transposed conv)', [rand('float32', [1, 2, 5, 5]), rand('float32', [3, 2, 3, 3])], conv(2, { lhsDilation: [2, 2], padding: [[2, 2], [2, 1]] }), 1e-3);
add('conv', '1d', [rand('float32', [3, 2, 20]), rand('float32', [5, 2, 4])], conv(1, { padding: [[1, 2]] }), 1e-3);
add('reduce_window', 'max 2x2 stride 2', [rand('float32', [2, 3, 8, 8])], { kind: 'max', window: [2, 2], stride: [2, 2], padding: [[0, 0], [0, 0]] });
add('reduce_window', 'sum 3x3 pad 1', [rand('float32', [1, 2, 7, 6])], { kind: 'sum', window: [3, 3], stride: [1, 1], padding: [[1, 1], [1, 1]] });

// ---- indexing and random ---------------------------------------------------------------------------
add('gather', 'f32[10,6] axis 0', [rand('float32', [10, 6]), rand('int32', [7], 0, 9)], { axis: 0 });
add('gather', 'f32[4,8] axis 1 idx [2,3]', [rand('float32', [4, 8]), rand('int32', [2, 3], 0, 7)], { axis: 1 });
add('gather', 'i32[5] axis 0', [rand('int32', [5]), rand('int32', [12], 0, 4)], { axis: 0 });
add('scatter_add', 'f32[8,5] duplicates axis 0', [rand('float32', [8, 5]), rand('int32', [12], 0, 7), rand('float32', [12, 5])], { axis: 0 });
add('scatter_add', 'f32[3,6] axis 1', [rand('float32', [3, 6]), rand('int32', [4], 0, 5), rand('float32', [3, 4])], { axis: 1 });
add('scatter_add', 'i32[6] axis 0', [rand('int32', [6]), rand('int32', [9], 0, 5), rand('int32', [9])], { axis: 0 });
add('random_bits', 'i32[5,77]', [hostArray('int32', [2], [42, -7])], { shape: [5, 77] });
add('random_bits', 'i32[3]', [hostArray('int32', [2], [0, 0])], { shape: [3] });

/** Every primitive that has an op case here (control flow and fusion are covered in programs.ts). */
export const COVERED = new Set(cases.map((c) => c.prim));

const dev = () => getDevice('webgpu');

test('ops eager', 'every primitive of the op table has cases (control flow and fusion: programs.ts)', () => {
  const missing = PRIMITIVES.filter((p) => !COVERED.has(p) && !['cond', 'while', 'scan', 'fusion'].includes(p));
  expect(missing.length === 0, `no op cases for ${missing.join(', ')}`);
});

for (const c of cases) {
  test('ops eager', c.name, async () => {
    const want = evalPrimitive(c.prim, c.inputs, c.attrs);
    const outs = dev().execute(c.prim, c.inputs.map((x) => dev().upload(x)), c.attrs, []);
    for (let i = 0; i < want.length; i++) assertClose(c.name, await dev().read(outs[i]), want[i], c.rtol);
    outs.forEach((o) => dev().dispose(o));
  });
  test('ops compiled', c.name, async () => {
    const b = new Builder();
    const params = c.inputs.map((x) => b.param({ dtype: x.dtype, shape: x.shape }));
    const res = b.op(c.prim, params, c.attrs as never);
    const fn = b.finish(c.prim, res);
    const want = interpret(fn, c.inputs);
    const outs = dev().compile(fn).run(c.inputs.map((x) => dev().upload(x)));
    for (let i = 0; i < want.length; i++) assertClose(c.name, await dev().read(outs[i]), want[i], c.rtol);
  });
}
