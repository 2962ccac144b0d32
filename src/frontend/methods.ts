// Tensor methods for the ops that read naturally as methods (`x.add(y).sum({axis: 1})`), attached
// by declaration merging so each stays one line and the functions remain the single definition.
import { Tensor } from './tensor.js';
import type { TensorLike } from './convert.js';
import type { DType } from '../ir/dtype.js';
import * as E from './ops/elementwise.js';
import * as R from './ops/reduce.js';
import * as S from './ops/shape.js';
import * as I from './ops/indexing.js';
import { formatTensor } from './format.js';
import type { ReduceOptions, VarianceOptions } from './ops/reduce.js';
import type { IndexSpec } from './ops/indexing.js';

declare module './tensor.js' {
  interface Tensor {
    add(b: TensorLike): Tensor;
    sub(b: TensorLike): Tensor;
    mul(b: TensorLike): Tensor;
    div(b: TensorLike): Tensor;
    pow(b: TensorLike): Tensor;
    mod(b: TensorLike): Tensor;
    floorDiv(b: TensorLike): Tensor;
    maximum(b: TensorLike): Tensor;
    minimum(b: TensorLike): Tensor;
    eq(b: TensorLike): Tensor;
    ne(b: TensorLike): Tensor;
    lt(b: TensorLike): Tensor;
    le(b: TensorLike): Tensor;
    gt(b: TensorLike): Tensor;
    ge(b: TensorLike): Tensor;
    logicalAnd(b: TensorLike): Tensor;
    logicalOr(b: TensorLike): Tensor;
    logicalNot(): Tensor;
    neg(): Tensor;
    abs(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    log1p(): Tensor;
    expm1(): Tensor;
    sqrt(): Tensor;
    rsqrt(): Tensor;
    square(): Tensor;
    sin(): Tensor;
    cos(): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    relu(): Tensor;
    erf(): Tensor;
    floor(): Tensor;
    ceil(): Tensor;
    round(): Tensor;
    sign(): Tensor;
    isnan(): Tensor;
    astype(dtype: DType, opts?: E.AstypeOptions): Tensor;
    clip(min?: TensorLike | null, max?: TensorLike | null): Tensor;
    sum(opts?: ReduceOptions): Tensor;
    mean(opts?: ReduceOptions): Tensor;
    var(opts?: VarianceOptions): Tensor;
    std(opts?: VarianceOptions): Tensor;
    max(opts?: ReduceOptions): Tensor;
    min(opts?: ReduceOptions): Tensor;
    prod(opts?: ReduceOptions): Tensor;
    all(opts?: ReduceOptions): Tensor;
    any(opts?: ReduceOptions): Tensor;
    argmax(opts?: { axis?: number; keepdims?: boolean }): Tensor;
    argmin(opts?: { axis?: number; keepdims?: boolean }): Tensor;
    logSumExp(opts?: ReduceOptions): Tensor;
    cumsum(opts?: { axis?: number }): Tensor;
    reshape(shape: readonly number[]): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor;
    squeeze(axis?: number | readonly number[]): Tensor;
    unsqueeze(axis: number): Tensor;
    transpose(perm?: readonly number[]): Tensor;
    permute(perm: readonly number[]): Tensor;
    swapaxes(a: number, b: number): Tensor;
    broadcastTo(shape: readonly number[]): Tensor;
    expand(shape: readonly number[]): Tensor;
    flip(axis?: number | readonly number[]): Tensor;
    pad(widths: readonly (readonly [number, number])[], opts?: { value?: number }): Tensor;
    tile(reps: readonly number[]): Tensor;
    split(sizesOrCount: number | readonly number[], axis?: number): Tensor[];
    chunk(chunks: number, axis?: number): Tensor[];
    index(...specs: IndexSpec[]): Tensor;
    slice(starts: readonly number[], ends?: readonly (number | undefined)[], steps?: readonly number[]): Tensor;
    take(indices: TensorLike, opts?: { axis?: number }): Tensor;
    takeAlongAxis(indices: TensorLike, opts?: { axis?: number }): Tensor;
    gather(indices: TensorLike, opts?: { axis?: number }): Tensor;
    scatterAdd(indices: TensorLike, updates: TensorLike, opts?: { axis?: number }): Tensor;
    oneHot(numClasses: number, opts?: { dtype?: 'float32' | 'int32' | 'bool' }): Tensor;
    /** The transpose of a 2-d tensor (reversed axes in general). */
    readonly T: Tensor;
  }
}

type Method = (this: Tensor, ...args: any[]) => unknown;
const methods: Record<string, Method> = {
  add(b) { return E.add(this, b); },
  sub(b) { return E.sub(this, b); },
  mul(b) { return E.mul(this, b); },
  div(b) { return E.div(this, b); },
  pow(b) { return E.pow(this, b); },
  mod(b) { return E.mod(this, b); },
  floorDiv(b) { return E.floorDiv(this, b); },
  maximum(b) { return E.maximum(this, b); },
  minimum(b) { return E.minimum(this, b); },
  eq(b) { return E.eq(this, b); },
  ne(b) { return E.ne(this, b); },
  lt(b) { return E.lt(this, b); },
  le(b) { return E.le(this, b); },
  gt(b) { return E.gt(this, b); },
  ge(b) { return E.ge(this, b); },
  logicalAnd(b) { return E.logicalAnd(this, b); },
  logicalOr(b) { return E.logicalOr(this, b); },
  logicalNot() { return E.logicalNot(this); },
  neg() { return E.neg(this); },
  abs() { return E.abs(this); },
  exp() { return E.exp(this); },
  log() { return E.log(this); },
  log1p() { return E.log1p(this); },
  expm1() { return E.expm1(this); },
  sqrt() { return E.sqrt(this); },
  rsqrt() { return E.rsqrt(this); },
  square() { return E.square(this); },
  sin() { return E.sin(this); },
  cos() { return E.cos(this); },
  tanh() { return E.tanh(this); },
  sigmoid() { return E.sigmoid(this); },
  relu() { return E.relu(this); },
  erf() { return E.erf(this); },
  floor() { return E.floor(this); },
  ceil() { return E.ceil(this); },
  round() { return E.round(this); },
  sign() { return E.sign(this); },
  isnan() { return E.isnan(this); },
  astype(dtype, opts) { return E.astype(this, dtype, opts); },
  clip(lo, hi) { return S.clip(this, lo, hi); },
  sum(o) { return R.sum(this, o); },
  mean(o) { return R.mean(this, o); },
  var(o) { return R.variance(this, o); },
  std(o) { return R.std(this, o); },
  max(o) { return R.max(this, o); },
  min(o) { return R.min(this, o); },
  prod(o) { return R.prod(this, o); },
  all(o) { return R.all(this, o); },
  any(o) { return R.any(this, o); },
  argmax(o) { return R.argmax(this, o); },
  argmin(o) { return R.argmin(this, o); },
  logSumExp(o) { return R.logSumExp(this, o); },
  cumsum(o) { return R.cumsum(this, o); },
  reshape(shape) { return S.reshape(this, shape); },
  flatten(s, e) { return S.flatten(this, s, e); },
  squeeze(a) { return S.squeeze(this, a); },
  unsqueeze(a) { return S.unsqueeze(this, a); },
  transpose(p) { return S.transpose(this, p); },
  permute(p) { return S.permute(this, p); },
  swapaxes(a, b) { return S.swapaxes(this, a, b); },
  broadcastTo(shape) { return E.broadcastTo(this, shape); },
  expand(shape) { return S.expand(this, shape); },
  flip(a) { return S.flip(this, a); },
  pad(w, o) { return S.pad(this, w, o); },
  tile(r) { return S.tile(this, r); },
  split(s, a) { return S.split(this, s, a); },
  chunk(c, a) { return S.chunk(this, c, a); },
  index(...specs) { return I.index(this, ...specs); },
  slice(s, e, st) { return I.slice(this, s, e, st); },
  take(i, o) { return I.take(this, i, o); },
  takeAlongAxis(i, o) { return I.takeAlongAxis(this, i, o); },
  gather(i, o) { return I.gather(this, i, o); },
  scatterAdd(i, u, o) { return I.scatterAdd(this, i, u, o); },
  oneHot(n, o) { return I.oneHot(this, n, o); },
  toString(this: Tensor) { return formatTensor(this); },
};
for (const [name, fn] of Object.entries(methods)) {
  Object.defineProperty(Tensor.prototype, name, { value: fn, writable: true, configurable: true });
}
Object.defineProperty(Tensor.prototype, 'T', { get(this: Tensor) { return S.transpose(this); }, configurable: true });
Object.defineProperty(Tensor.prototype, Symbol.for('nodejs.util.inspect.custom'), { value(this: Tensor) { return formatTensor(this); }, configurable: true });
