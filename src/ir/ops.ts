// The op table: every primitive of Kiln once, with its category, operand count, typed attributes,
// and its shape/dtype rule. Passes, the interpreter, emitters and gradient rules all switch over it.
import { DType, isFloat, isDType, SHORT_NAME } from './dtype.js';
import { fail } from './error.js';
import { Shape, TensorType, isPermutation, shapeEqual, sizeOf, typeToString } from './shape.js';
import type { Block } from './function.js';

// ---- primitives, grouped -------------------------------------------------------------------------

export const UNARY_OPS = [
  'neg', 'abs', 'exp', 'log', 'sqrt', 'rsqrt', 'sin', 'cos', 'tanh', 'sigmoid', 'relu',
  'floor', 'ceil', 'round', 'sign', 'not', 'isnan', 'log1p', 'expm1', 'erf',
] as const;
export const BINARY_OPS = [
  'add', 'sub', 'mul', 'div', 'pow', 'max', 'min', 'mod', 'atan2',
  'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or',
] as const;
export const REDUCE_OPS = ['reduce_sum', 'reduce_max', 'reduce_min', 'reduce_prod'] as const;
export const MOVEMENT_OPS = ['reshape', 'broadcast', 'transpose', 'slice', 'pad', 'concat', 'flip'] as const;
export const CONTROL_OPS = ['cond', 'while', 'scan'] as const;
export const OTHER_OPS = [
  'constant', 'iota', 'cast', 'select', 'argmax', 'argmin', 'dot_general', 'conv', 'reduce_window',
  'gather', 'scatter_add', 'random_bits', 'fusion',
] as const;

export type UnaryOp = (typeof UNARY_OPS)[number];
export type BinaryOp = (typeof BINARY_OPS)[number];
export type ReduceOp = (typeof REDUCE_OPS)[number];
export type MovementOp = (typeof MOVEMENT_OPS)[number];
export type ControlOp = (typeof CONTROL_OPS)[number];
export type Primitive = UnaryOp | BinaryOp | ReduceOp | MovementOp | ControlOp | (typeof OTHER_OPS)[number];

export const PRIMITIVES: readonly Primitive[] = [
  ...UNARY_OPS, ...BINARY_OPS, ...REDUCE_OPS, ...MOVEMENT_OPS, ...CONTROL_OPS, ...OTHER_OPS,
];
const PRIMITIVE_SET = new Set<string>(PRIMITIVES);
export function isPrimitive(name: string): name is Primitive {
  return PRIMITIVE_SET.has(name);
}

export const COMPARISON_OPS = new Set<Primitive>(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);
/** Unary ops defined only on floats (they would silently truncate on ints). */
export const FLOAT_UNARY_OPS = new Set<Primitive>([
  'exp', 'log', 'sqrt', 'rsqrt', 'sin', 'cos', 'tanh', 'sigmoid', 'log1p', 'expm1', 'erf',
]);
export const COMMUTATIVE_OPS = new Set<Primitive>(['add', 'mul', 'max', 'min', 'eq', 'ne', 'and', 'or']);

/** What a fusion op's kernel is built around (see src/passes/fuse.ts). */
export const FUSION_KINDS = ['elementwise', 'reduce', 'contraction', 'opaque'] as const;
export type FusionKind = (typeof FUSION_KINDS)[number];

export type Category =
  | 'unary' | 'binary' | 'reduce' | 'movement' | 'contraction' | 'control' | 'random' | 'index' | 'other';

// ---- typed attributes -----------------------------------------------------------------------------

/** [low, high] padding per spatial dimension. */
export type PadPair = [number, number];

type NoAttrs = Record<string, never>;
export interface AttrMap {
  constant: { value: number[]; dtype: DType; shape: number[] }; // row-major flat values
  iota: { shape: number[]; dimension: number; dtype: DType };
  cast: { dtype: DType };
  select: NoAttrs; // select(pred: bool, onTrue, onFalse), all the same shape
  reduce_sum: { axes: number[] };
  reduce_max: { axes: number[] };
  reduce_min: { axes: number[] };
  reduce_prod: { axes: number[] };
  argmax: { axis: number }; // result int32, the axis removed; first index on ties
  argmin: { axis: number };
  reshape: { shape: number[] };
  /** XLA broadcast_in_dim: operand dim i becomes output dim dims[i] (equal size or 1). */
  broadcast: { shape: number[]; dims: number[] };
  transpose: { perm: number[] };
  slice: { start: number[]; limit: number[]; stride: number[] };
  /** Constant padding; `interior` inserts that many values between elements (for strided gradients). */
  pad: { low: number[]; high: number[]; interior: number[]; value: number };
  concat: { axis: number };
  flip: { axes: number[] };
  /** Output dims: batch, lhs free, rhs free (XLA order). */
  dot_general: { contract: [number[], number[]]; batch: [number[], number[]] };
  /** N-d convolution, lhs [N, C, ...spatial], rhs [O, C/groups, ...kernel]; cross-correlation like PyTorch. */
  conv: { stride: number[]; padding: PadPair[]; lhsDilation: number[]; rhsDilation: number[]; groups: number };
  /** Pooling over the trailing window.length dims (padding value: -inf for max, 0 for sum). */
  reduce_window: { kind: 'max' | 'sum'; window: number[]; stride: number[]; padding: PadPair[] };
  /** gather(x, idx): out = x.shape[:axis] ++ idx.shape ++ x.shape[axis+1:] (numpy take). */
  gather: { axis: number };
  /** scatter_add(x, idx, updates): x with updates (shaped like a gather result) added at idx. */
  scatter_add: { axis: number };
  /** Counter-based (threefry-2x32) random bits from an int32[2] key; device independent. */
  random_bits: { shape: number[] };
  /**
   * fusion(...inputs){body}: one kernel made by the fuse pass. The region takes the inputs as its
   * params and returns the kernel's outputs; `kind` tells backends which kernel template applies.
   */
  fusion: { kind: FusionKind };
  /** cond(pred, ...operands){then}{else}: each region takes the operands, returns the results. */
  cond: NoAttrs;
  /** while(...init){cond}{body}: cond returns bool[], body returns the next carry. */
  while: NoAttrs;
  /** scan(...init, ...xs){body}: body(carry..., x slices...) -> (carry..., y slices...). */
  scan: { length: number; numCarry: number; reverse: boolean };
}
type ElementwiseAttrs = { [K in UnaryOp | BinaryOp]: NoAttrs };
export type Attrs<P extends Primitive> = P extends keyof AttrMap ? AttrMap[P] : P extends keyof ElementwiseAttrs ? NoAttrs : never;
export type AnyAttrs = Record<string, unknown>;

// ---- the table ------------------------------------------------------------------------------------

export interface OpRow<P extends Primitive = Primitive> {
  category: Category;
  /** Number of operands; -1 means variadic (checked by the rule). */
  arity: number;
  /** Number of regions the op owns (control flow only). */
  regions: number;
  /** Whether gradients flow through it (comparisons, argmax, integer ops do not). */
  differentiable: boolean;
  /** Result types from operand types; throws a KilnError naming the op on bad input. */
  infer(ins: TensorType[], attrs: Attrs<P>, regions: readonly Block[]): TensorType[];
}

const t = (dtype: DType, shape: Shape): TensorType => ({ dtype, shape: [...shape] });
const types = (ins: TensorType[]) => ins.map(typeToString).join(', ');

function sameShape(op: string, ins: TensorType[]): void {
  for (const x of ins.slice(1)) {
    if (!shapeEqual(x.shape, ins[0].shape)) fail(op, `operand shapes differ: ${types(ins)}`);
  }
}
function checkInts(op: string, name: string, xs: unknown, len?: number): asserts xs is number[] {
  if (!Array.isArray(xs) || !xs.every((v) => Number.isInteger(v)) || (len !== undefined && xs.length !== len)) {
    fail(op, `attribute ${name} must be ${len === undefined ? 'a list' : `a list of ${len}`} of integers, got ${JSON.stringify(xs)}`);
  }
}
function checkShape(op: string, shape: unknown): asserts shape is number[] {
  checkInts(op, 'shape', shape);
  if ((shape as number[]).some((d) => d < 0)) fail(op, `negative dimension in shape [${(shape as number[]).join(',')}]`);
}

const unaryRow = (name: UnaryOp): OpRow => ({
  category: 'unary',
  arity: 1,
  regions: 0,
  differentiable: !['floor', 'ceil', 'round', 'sign', 'not', 'isnan'].includes(name),
  infer([x]) {
    if (FLOAT_UNARY_OPS.has(name) && !isFloat(x.dtype)) fail(name, `expects a float operand, got ${typeToString(x)}`);
    if (name === 'not' && x.dtype === 'float32') fail(name, `expects a bool or int32 operand, got ${typeToString(x)}`);
    if (name === 'not' && x.dtype === 'float64') fail(name, `expects a bool or int32 operand, got ${typeToString(x)}`);
    if (name === 'isnan') return [t('bool', x.shape)];
    return [t(x.dtype, x.shape)];
  },
});

const binaryRow = (name: BinaryOp): OpRow => ({
  category: 'binary',
  arity: 2,
  regions: 0,
  differentiable: ['add', 'sub', 'mul', 'div', 'pow', 'max', 'min', 'mod', 'atan2'].includes(name),
  infer(ins) {
    const [a, b] = ins;
    if (a.dtype !== b.dtype) fail(name, `operand dtypes differ: ${types(ins)}`);
    sameShape(name, ins);
    if ((name === 'and' || name === 'or') && isFloat(a.dtype)) fail(name, `expects bool or int32 operands, got ${types(ins)}`);
    if (name === 'atan2' && !isFloat(a.dtype)) fail(name, `expects float operands, got ${types(ins)}`);
    return [t(COMPARISON_OPS.has(name) ? 'bool' : a.dtype, a.shape)];
  },
});

function reducedShape(op: string, x: TensorType, axes: number[]): number[] {
  checkInts(op, 'axes', axes);
  for (const a of axes) if (a < 0 || a >= x.shape.length) fail(op, `axis ${a} out of range for ${typeToString(x)}`);
  if (new Set(axes).size !== axes.length) fail(op, `repeated axis in [${axes.join(',')}]`);
  return x.shape.filter((_, i) => !axes.includes(i));
}

const reduceRow = (name: ReduceOp): OpRow<ReduceOp> => ({
  category: 'reduce',
  arity: 1,
  regions: 0,
  differentiable: true,
  infer([x], { axes }) {
    if (x.dtype === 'bool' && name !== 'reduce_max' && name !== 'reduce_min') fail(name, `expects a numeric operand, got ${typeToString(x)}`);
    return [t(x.dtype, reducedShape(name, x, axes))];
  },
});

const argRow = <P extends 'argmax' | 'argmin'>(name: P): OpRow<P> => ({
  category: 'reduce',
  arity: 1,
  regions: 0,
  differentiable: false,
  infer([x], { axis }) {
    const shape = reducedShape(name, x, [axis]);
    if (x.shape[axis] === 0) fail(name, `cannot reduce an empty axis ${axis} of ${typeToString(x)}`);
    return [t('int32', shape)];
  },
});

function regionTypes(op: string, region: Block, which: string, expected: TensorType[]): void {
  const got = region.params.map((p) => p.type);
  if (got.length !== expected.length || got.some((g, i) => g.dtype !== expected[i].dtype || !shapeEqual(g.shape, expected[i].shape))) {
    fail(op, `${which} region takes (${types(got)}) but is given (${types(expected)})`);
  }
}
function resultsMatch(op: string, a: TensorType[], b: TensorType[], what: string): void {
  if (a.length !== b.length || a.some((x, i) => x.dtype !== b[i].dtype || !shapeEqual(x.shape, b[i].shape))) {
    fail(op, `${what}: (${types(a)}) vs (${types(b)})`);
  }
}

const ROWS: { [P in Primitive]: OpRow<P> } = {
  ...(Object.fromEntries(UNARY_OPS.map((n) => [n, unaryRow(n)])) as { [P in UnaryOp]: OpRow<P> }),
  ...(Object.fromEntries(BINARY_OPS.map((n) => [n, binaryRow(n)])) as { [P in BinaryOp]: OpRow<P> }),
  ...(Object.fromEntries(REDUCE_OPS.map((n) => [n, reduceRow(n)])) as { [P in ReduceOp]: OpRow<P> }),
  argmax: argRow('argmax'),
  argmin: argRow('argmin'),

  constant: {
    category: 'other', arity: 0, regions: 0, differentiable: false,
    infer(_, { value, dtype, shape }) {
      checkShape('constant', shape);
      if (!isDType(dtype)) fail('constant', `unknown dtype ${String(dtype)}`);
      if (!Array.isArray(value) || (value.length !== sizeOf(shape) && value.length !== 1)) {
        fail('constant', `has ${Array.isArray(value) ? value.length : 'no'} values for shape [${shape.join(',')}]`);
      }
      return [t(dtype, shape)];
    },
  },
  iota: {
    category: 'other', arity: 0, regions: 0, differentiable: false,
    infer(_, { shape, dimension, dtype }) {
      checkShape('iota', shape);
      if (!Number.isInteger(dimension) || dimension < 0 || dimension >= shape.length) fail('iota', `dimension ${dimension} out of range for shape [${shape.join(',')}]`);
      if (dtype === 'bool') fail('iota', 'cannot produce bool');
      return [t(dtype, shape)];
    },
  },
  cast: {
    category: 'unary', arity: 1, regions: 0, differentiable: true,
    infer([x], { dtype }) {
      if (!isDType(dtype)) fail('cast', `unknown dtype ${String(dtype)}`);
      return [t(dtype, x.shape)];
    },
  },
  select: {
    category: 'other', arity: 3, regions: 0, differentiable: true,
    infer(ins) {
      const [p, a, b] = ins;
      if (p.dtype !== 'bool') fail('select', `predicate must be bool, got ${typeToString(p)}`);
      if (a.dtype !== b.dtype) fail('select', `branch dtypes differ: ${types(ins)}`);
      sameShape('select', ins);
      return [t(a.dtype, a.shape)];
    },
  },

  reshape: {
    category: 'movement', arity: 1, regions: 0, differentiable: true,
    infer([x], { shape }) {
      checkShape('reshape', shape);
      if (sizeOf(shape) !== sizeOf(x.shape)) fail('reshape', `cannot reshape ${typeToString(x)} (${sizeOf(x.shape)} elements) to [${shape.join(',')}] (${sizeOf(shape)} elements)`);
      return [t(x.dtype, shape)];
    },
  },
  broadcast: {
    category: 'movement', arity: 1, regions: 0, differentiable: true,
    infer([x], { shape, dims }) {
      checkShape('broadcast', shape);
      checkInts('broadcast', 'dims', dims, x.shape.length);
      dims.forEach((d, i) => {
        if (d < 0 || d >= shape.length || (i > 0 && d <= dims[i - 1])) fail('broadcast', `dims [${dims.join(',')}] must be increasing and within rank ${shape.length}`);
        if (x.shape[i] !== 1 && x.shape[i] !== shape[d]) fail('broadcast', `cannot broadcast ${typeToString(x)} to [${shape.join(',')}]: dimension ${i} (${x.shape[i]}) vs ${shape[d]}`);
      });
      return [t(x.dtype, shape)];
    },
  },
  transpose: {
    category: 'movement', arity: 1, regions: 0, differentiable: true,
    infer([x], { perm }) {
      if (!isPermutation(perm, x.shape.length)) fail('transpose', `perm [${perm.join(',')}] is not a permutation of the ${x.shape.length} axes of ${typeToString(x)}`);
      return [t(x.dtype, perm.map((p) => x.shape[p]))];
    },
  },
  slice: {
    category: 'movement', arity: 1, regions: 0, differentiable: true,
    infer([x], { start, limit, stride }) {
      const r = x.shape.length;
      checkInts('slice', 'start', start, r);
      checkInts('slice', 'limit', limit, r);
      checkInts('slice', 'stride', stride, r);
      const shape = x.shape.map((d, i) => {
        if (stride[i] < 1) fail('slice', `stride ${stride[i]} must be positive`);
        if (start[i] < 0 || limit[i] > d || start[i] > limit[i]) fail('slice', `range ${start[i]}:${limit[i]} is out of bounds for dimension ${i} of ${typeToString(x)}`);
        return Math.ceil((limit[i] - start[i]) / stride[i]);
      });
      return [t(x.dtype, shape)];
    },
  },
  pad: {
    category: 'movement', arity: 1, regions: 0, differentiable: true,
    infer([x], { low, high, interior }) {
      const r = x.shape.length;
      checkInts('pad', 'low', low, r);
      checkInts('pad', 'high', high, r);
      checkInts('pad', 'interior', interior, r);
      const shape = x.shape.map((d, i) => {
        if (interior[i] < 0) fail('pad', `interior padding ${interior[i]} must be non-negative`);
        const n = low[i] + high[i] + d + Math.max(0, d - 1) * interior[i];
        if (n < 0) fail('pad', `negative padding leaves dimension ${i} of ${typeToString(x)} with size ${n}`);
        return n;
      });
      return [t(x.dtype, shape)];
    },
  },
  concat: {
    category: 'movement', arity: -1, regions: 0, differentiable: true,
    infer(ins, { axis }) {
      if (ins.length === 0) fail('concat', 'needs at least one operand');
      const r = ins[0].shape.length;
      if (!Number.isInteger(axis) || axis < 0 || axis >= r) fail('concat', `axis ${axis} out of range for rank ${r}`);
      for (const x of ins) {
        if (x.dtype !== ins[0].dtype) fail('concat', `operand dtypes differ: ${types(ins)}`);
        if (x.shape.length !== r || x.shape.some((d, i) => i !== axis && d !== ins[0].shape[i])) {
          fail('concat', `operand shapes must agree except on axis ${axis}: ${types(ins)}`);
        }
      }
      const shape = [...ins[0].shape];
      shape[axis] = ins.reduce((s, x) => s + x.shape[axis], 0);
      return [t(ins[0].dtype, shape)];
    },
  },
  flip: {
    category: 'movement', arity: 1, regions: 0, differentiable: true,
    infer([x], { axes }) {
      reducedShape('flip', x, axes);
      return [t(x.dtype, x.shape)];
    },
  },

  dot_general: {
    category: 'contraction', arity: 2, regions: 0, differentiable: true,
    infer(ins, { contract, batch }) {
      const [a, b] = ins;
      if (a.dtype !== b.dtype) fail('dot_general', `operand dtypes differ: ${types(ins)}`);
      if (a.dtype === 'bool') fail('dot_general', `expects numeric operands, got ${types(ins)}`);
      const [ca, cb] = contract;
      const [ba, bb] = batch;
      checkInts('dot_general', 'contract', ca, cb.length);
      checkInts('dot_general', 'batch', ba, bb.length);
      const all = (xs: number[], r: number) => xs.every((d) => d >= 0 && d < r);
      if (!all([...ca, ...ba], a.shape.length) || !all([...cb, ...bb], b.shape.length)) fail('dot_general', `dimension numbers out of range for ${types(ins)}`);
      ca.forEach((d, i) => {
        if (a.shape[d] !== b.shape[cb[i]]) fail('dot_general', `${types(ins)}: contracting dimensions ${a.shape[d]} and ${b.shape[cb[i]]} differ`);
      });
      ba.forEach((d, i) => {
        if (a.shape[d] !== b.shape[bb[i]]) fail('dot_general', `${types(ins)}: batch dimensions ${a.shape[d]} and ${b.shape[bb[i]]} differ`);
      });
      const freeA = a.shape.filter((_, i) => !ca.includes(i) && !ba.includes(i));
      const freeB = b.shape.filter((_, i) => !cb.includes(i) && !bb.includes(i));
      return [t(a.dtype, [...ba.map((d) => a.shape[d]), ...freeA, ...freeB])];
    },
  },
  conv: {
    category: 'contraction', arity: 2, regions: 0, differentiable: true,
    infer(ins, { stride, padding, lhsDilation, rhsDilation, groups }) {
      const [x, w] = ins;
      const nd = x.shape.length - 2;
      if (nd < 1 || w.shape.length !== x.shape.length) fail('conv', `expects lhs [N,C,...] and rhs [O,C/groups,...] of equal rank >= 3, got ${types(ins)}`);
      if (x.dtype !== w.dtype || !isFloat(x.dtype)) fail('conv', `expects float operands of one dtype, got ${types(ins)}`);
      checkInts('conv', 'stride', stride, nd);
      checkInts('conv', 'lhsDilation', lhsDilation, nd);
      checkInts('conv', 'rhsDilation', rhsDilation, nd);
      if (!Array.isArray(padding) || padding.length !== nd) fail('conv', `padding must have ${nd} [low, high] pairs`);
      if (!Number.isInteger(groups) || groups < 1 || x.shape[1] % groups !== 0 || w.shape[0] % groups !== 0) {
        fail('conv', `groups ${groups} must divide input channels ${x.shape[1]} and output channels ${w.shape[0]}`);
      }
      if (w.shape[1] * groups !== x.shape[1]) fail('conv', `${types(ins)}: weight expects ${w.shape[1] * groups} input channels, input has ${x.shape[1]}`);
      const spatial = Array.from({ length: nd }, (_, i) => {
        const inSize = (x.shape[i + 2] - 1) * lhsDilation[i] + 1 + padding[i][0] + padding[i][1];
        const k = (w.shape[i + 2] - 1) * rhsDilation[i] + 1;
        if (x.shape[i + 2] === 0) return 0;
        const n = Math.floor((inSize - k) / stride[i]) + 1;
        if (n < 0) fail('conv', `${types(ins)}: kernel extent ${k} is larger than the padded input ${inSize} on spatial dim ${i}`);
        return n;
      });
      return [t(x.dtype, [x.shape[0], w.shape[0], ...spatial])];
    },
  },
  reduce_window: {
    category: 'reduce', arity: 1, regions: 0, differentiable: true,
    infer([x], { kind, window, stride, padding }) {
      const nd = window.length;
      if (kind !== 'max' && kind !== 'sum') fail('reduce_window', `kind must be max or sum, got ${String(kind)}`);
      if (nd > x.shape.length) fail('reduce_window', `window of rank ${nd} is larger than ${typeToString(x)}`);
      checkInts('reduce_window', 'stride', stride, nd);
      const lead = x.shape.length - nd;
      const shape = x.shape.map((d, i) => {
        if (i < lead) return d;
        const j = i - lead;
        const n = Math.floor((d + padding[j][0] + padding[j][1] - window[j]) / stride[j]) + 1;
        if (n < 0) fail('reduce_window', `window ${window[j]} larger than padded dimension ${i} of ${typeToString(x)}`);
        return n;
      });
      return [t(x.dtype, shape)];
    },
  },
  gather: {
    category: 'index', arity: 2, regions: 0, differentiable: true,
    infer(ins, { axis }) {
      const [x, idx] = ins;
      if (idx.dtype !== 'int32') fail('gather', `indices must be int32, got ${typeToString(idx)}`);
      if (axis < 0 || axis >= x.shape.length) fail('gather', `axis ${axis} out of range for ${typeToString(x)}`);
      return [t(x.dtype, [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)])];
    },
  },
  scatter_add: {
    category: 'index', arity: 3, regions: 0, differentiable: true,
    infer(ins, { axis }) {
      const [x, idx, upd] = ins;
      if (idx.dtype !== 'int32') fail('scatter_add', `indices must be int32, got ${typeToString(idx)}`);
      if (upd.dtype !== x.dtype) fail('scatter_add', `updates dtype differs: ${types(ins)}`);
      const expected = [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)];
      if (!shapeEqual(upd.shape, expected)) fail('scatter_add', `updates must have shape [${expected.join(',')}], got ${types(ins)}`);
      return [t(x.dtype, x.shape)];
    },
  },
  random_bits: {
    category: 'random', arity: 1, regions: 0, differentiable: false,
    infer([key], { shape }) {
      if (key.dtype !== 'int32' || !shapeEqual(key.shape, [2])) fail('random_bits', `key must be i32[2], got ${typeToString(key)}`);
      checkShape('random_bits', shape);
      return [t('int32', shape)];
    },
  },

  fusion: {
    category: 'other', arity: -1, regions: 1, differentiable: false,
    infer(ins, { kind }, [body]) {
      if (!(FUSION_KINDS as readonly string[]).includes(kind)) fail('fusion', `kind must be one of ${FUSION_KINDS.join(', ')}, got ${String(kind)}`);
      regionTypes('fusion', body, 'body', ins);
      return body.results.map((v) => t(v.type.dtype, v.type.shape));
    },
  },

  cond: {
    category: 'control', arity: -1, regions: 2, differentiable: true,
    infer(ins, _, [thenR, elseR]) {
      const [pred, ...operands] = ins;
      if (!pred || pred.dtype !== 'bool' || pred.shape.length !== 0) fail('cond', `predicate must be bool[], got ${pred ? typeToString(pred) : 'nothing'}`);
      regionTypes('cond', thenR, 'then', operands);
      regionTypes('cond', elseR, 'else', operands);
      const a = thenR.results.map((v) => v.type);
      resultsMatch('cond', a, elseR.results.map((v) => v.type), 'branches return different types');
      return a.map((x) => t(x.dtype, x.shape));
    },
  },
  while: {
    category: 'control', arity: -1, regions: 2, differentiable: true,
    infer(ins, _, [condR, bodyR]) {
      regionTypes('while', condR, 'cond', ins);
      regionTypes('while', bodyR, 'body', ins);
      const c = condR.results.map((v) => v.type);
      if (c.length !== 1 || c[0].dtype !== 'bool' || c[0].shape.length !== 0) fail('while', `cond region must return one bool[], got (${types(c)})`);
      resultsMatch('while', bodyR.results.map((v) => v.type), ins, 'body must return the carry types');
      return ins.map((x) => t(x.dtype, x.shape));
    },
  },
  scan: {
    category: 'control', arity: -1, regions: 1, differentiable: true,
    infer(ins, { length, numCarry }, [body]) {
      const carry = ins.slice(0, numCarry);
      const xs = ins.slice(numCarry);
      for (const x of xs) if (x.shape[0] !== length) fail('scan', `scanned operand ${typeToString(x)} must have leading dimension ${length}`);
      regionTypes('scan', body, 'body', [...carry, ...xs.map((x) => t(x.dtype, x.shape.slice(1)))]);
      const outs = body.results.map((v) => v.type);
      resultsMatch('scan', outs.slice(0, numCarry), carry, 'body must return the carry types first');
      return [...carry.map((x) => t(x.dtype, x.shape)), ...outs.slice(numCarry).map((y) => t(y.dtype, [length, ...y.shape]))];
    },
  },
} as { [P in Primitive]: OpRow<P> };

export function opRow<P extends Primitive>(p: P): OpRow<P> {
  const row = ROWS[p];
  if (!row) fail(String(p), 'is not a Kiln primitive');
  return row;
}

/** Runs the op table's rule: checks operand count, then infers result types. */
export function inferTypes<P extends Primitive>(prim: P, ins: TensorType[], attrs: Attrs<P>, regions: readonly Block[] = []): TensorType[] {
  const row = opRow(prim);
  if (row.arity >= 0 && ins.length !== row.arity) fail(prim, `expects ${row.arity} operand(s), got ${ins.length}`);
  if (regions.length !== row.regions) fail(prim, `expects ${row.regions} region(s), got ${regions.length}`);
  return row.infer(ins, attrs, regions);
}

export { SHORT_NAME };
