// Elementwise ops of the IR as wasm, per (op, dtype family) and lane width: the tables the kernel
// emitter looks up. Semantics follow the reference interpreter (src/ir/interpret_scalar.ts).
// Values: float32 -> f32 lanes; int32 and bool -> i32 lanes, bools holding 0/1.
import type { BinaryOp, UnaryOp } from '../../ir/ops.js';
import type { DType } from '../../ir/dtype.js';
import { KilnError } from '../../ir/error.js';
import type { E } from './binaryen.js';
import type { Lanes } from './lanes.js';
import * as math from './math.js';

type Unary = (L: Lanes, x: E) => E;
type Binary = (L: Lanes, a: E, b: E) => E;

const floatSign: Unary = (L, x0) => {
  const x = L.flet(x0);
  return L.fsel(L.fgt(x(), L.fc(0)), L.fc(1), L.fsel(L.flt(x(), L.fc(0)), L.fc(-1), x()));
};
const intSign: Unary = (L, x0) => {
  const x = L.ilet(x0);
  return L.isel(L.igt(x(), L.ic(0)), L.ic(1), L.isel(L.ilt(x(), L.ic(0)), L.ic(-1), L.ic(0)));
};
const same: Unary = (_, x) => x;
const floatOnly = (op: string): Unary => () => {
  throw new KilnError(`internal: wasm: ${op} has no integer form`);
};

const FLOAT_UNARY: { [P in UnaryOp]: Unary } = {
  neg: (L, x) => L.fneg(x),
  abs: (L, x) => L.fabs(x),
  exp: math.exp,
  log: math.log,
  sqrt: (L, x) => L.fsqrt(x),
  rsqrt: (L, x) => L.fdiv(L.fc(1), L.fsqrt(x)),
  sin: math.sin,
  cos: math.cos,
  tanh: math.tanh,
  sigmoid: math.sigmoid,
  // pmax keeps NaN but may keep -0; adding +0 turns -0 into +0 (max(-0, 0) = 0), 2 instructions instead of ~8.
  relu: (L, x) => (L.vec ? L.fadd(L.m.f32x4.pmax(x, L.fc(0)), L.fc(0)) : L.fmax(x, L.fc(0))),
  floor: (L, x) => L.ffloor(x),
  ceil: (L, x) => L.fceil(x),
  round: (L, x) => L.fnearest(x),
  sign: floatSign,
  not: floatOnly('not on floats'),
  isnan: (L, x0) => {
    const x = L.flet(x0);
    return L.maskToBool(L.fne(x(), x()));
  },
  log1p: math.log1p,
  expm1: math.expm1,
  erf: math.erf,
};

const INT_UNARY: { [P in UnaryOp]: Unary } = {
  neg: (L, x) => L.ineg(x),
  abs: (L, x) => L.iabs(x),
  exp: floatOnly('exp'), log: floatOnly('log'), sqrt: floatOnly('sqrt'), rsqrt: floatOnly('rsqrt'),
  sin: floatOnly('sin'), cos: floatOnly('cos'), tanh: floatOnly('tanh'), sigmoid: floatOnly('sigmoid'),
  log1p: floatOnly('log1p'), expm1: floatOnly('expm1'), erf: floatOnly('erf'),
  relu: (L, x) => L.imax(x, L.ic(0)),
  floor: same,
  ceil: same,
  round: same,
  sign: intSign,
  not: (L, x) => L.ixor(x, L.ic(-1)),
  isnan: (L) => L.ic(0),
};

/** bool unary ops: the int32 rule on 0/1 followed by != 0 (neg, abs, sign, relu keep the value). */
const BOOL_UNARY: { [P in UnaryOp]: Unary } = {
  ...INT_UNARY,
  neg: same,
  abs: same,
  sign: same,
  not: (L, x) => L.ixor(x, L.ic(1)),
};

const cmp = (f: 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne', float: boolean): Binary => {
  const name = `${float ? 'f' : 'i'}${f}` as const;
  return (L, a, b) => L.maskToBool(L[name](a, b));
};
const notForFloats = (op: string): Binary => () => {
  throw new KilnError(`internal: wasm: ${op} on floats`);
};
/** Scalar-only ops (they need branches, division or f64): the kernel emitter keeps their loops scalar. */
const scalarOnly = (op: string, fn: (L: Lanes, a: E, b: E) => E): Binary => (L, a, b) => {
  if (L.vec) throw new KilnError(`internal: wasm: ${op} has no vector form`);
  return fn(L, a, b);
};

const FLOAT_BINARY: { [P in BinaryOp]: Binary } = {
  add: (L, a, b) => L.fadd(a, b),
  sub: (L, a, b) => L.fsub(a, b),
  mul: (L, a, b) => L.fmul(a, b),
  div: (L, a, b) => L.fdiv(a, b),
  pow: scalarOnly('pow', (L, a, b) => math.powF32(L.f, a, b)),
  max: (L, a, b) => L.fmax(a, b),
  min: (L, a, b) => L.fmin(a, b),
  mod: scalarOnly('mod', (L, a, b) => math.modF32(L.f, a, b)),
  atan2: math.atan2,
  eq: cmp('eq', true), ne: cmp('ne', true), lt: cmp('lt', true), le: cmp('le', true), gt: cmp('gt', true), ge: cmp('ge', true),
  and: notForFloats('and'),
  or: notForFloats('or'),
};

const INT_BINARY: { [P in BinaryOp]: Binary } = {
  add: (L, a, b) => L.iadd(a, b),
  sub: (L, a, b) => L.isub(a, b),
  mul: (L, a, b) => L.imul(a, b),
  div: scalarOnly('div', (L, a, b) => math.divInt(L.f, a, b)),
  pow: scalarOnly('pow', (L, a, b) => math.powInt(L.f, a, b)),
  max: (L, a, b) => L.imax(a, b),
  min: (L, a, b) => L.imin(a, b),
  mod: scalarOnly('mod', (L, a, b) => math.modInt(L.f, a, b)),
  atan2: () => {
    throw new KilnError('internal: wasm: atan2 on integers');
  },
  eq: cmp('eq', false), ne: cmp('ne', false), lt: cmp('lt', false), le: cmp('le', false), gt: cmp('gt', false), ge: cmp('ge', false),
  and: (L, a, b) => L.iand(a, b),
  or: (L, a, b) => L.ior(a, b),
};

/** bool arithmetic = int32 arithmetic on 0/1, then != 0; in closed form on bits. */
const BOOL_BINARY: { [P in BinaryOp]: Binary } = {
  ...INT_BINARY,
  add: (L, a, b) => L.ior(a, b),
  sub: (L, a, b) => L.ixor(a, b),
  mul: (L, a, b) => L.iand(a, b),
  div: (L, a, b) => L.iand(a, b), // a // 1 = a, a // 0 = 0
  mod: (L) => L.ic(0), // a mod 1 = 0, a mod 0 = 0
  pow: (L, a, b) => L.ior(a, L.ixor(b, L.ic(1))), // a^0 = 1, a^1 = a
  max: (L, a, b) => L.ior(a, b),
  min: (L, a, b) => L.iand(a, b),
};

/** Binary ops with no vector form per dtype family (their loops stay scalar). */
export const SCALAR_ONLY_BINARY: Record<'float' | 'int' | 'bool', ReadonlySet<BinaryOp>> = {
  float: new Set(['pow', 'mod']),
  int: new Set(['div', 'mod', 'pow']),
  bool: new Set(),
};

export function family(d: DType): 'float' | 'int' | 'bool' {
  if (d === 'float32') return 'float';
  if (d === 'int32') return 'int';
  if (d === 'bool') return 'bool';
  throw new KilnError('wasm: float64 is only supported on cpu-ref; cast to float32 or use the cpu-ref device');
}

export function emitUnary(L: Lanes, op: UnaryOp, operand: DType, x: E): E {
  const f = family(operand);
  return (f === 'float' ? FLOAT_UNARY : f === 'int' ? INT_UNARY : BOOL_UNARY)[op](L, x);
}

export function emitBinary(L: Lanes, op: BinaryOp, operand: DType, a: E, b: E): E {
  const f = family(operand);
  return (f === 'float' ? FLOAT_BINARY : f === 'int' ? INT_BINARY : BOOL_BINARY)[op](L, a, b);
}

export function emitCast(L: Lanes, from: DType, to: DType, x: E): E {
  const a = family(from);
  const b = family(to);
  if (a === b) return x;
  if (b === 'bool') return a === 'float' ? L.maskToBool(L.fne(x, L.fc(0))) : L.maskToBool(L.ine(x, L.ic(0)));
  if (b === 'float') return L.itof(x); // from int or bool (0/1)
  return a === 'float' ? L.ftoi(x) : x; // to int: trunc_sat from float, bool is already 0/1
}
