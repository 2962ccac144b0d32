// Loss functions (PyTorch semantics and defaults): cross entropy / nll with class indices or
// probabilities, regression losses, binary cross entropy and KL divergence, in stable forms.
import { isFloat } from '../../ir/dtype.js';
import { fail } from '../../ir/error.js';
import { shapeEqual } from '../../ir/shape.js';
import { Tensor } from '../tensor.js';
import { TensorLike, asTensor } from '../convert.js';
import { named, numberArg } from '../args.js';
import {
  abs, add, astype, div, eq, exp, gt, log, log1p, logicalAnd, lt, maximum, mul, ne, neg, sub, where,
} from './elementwise.js';
import { broadcastIn, full, iota, meanAxes, sumAxes, toFloat } from './nn_internal.js';
import { logSoftmax } from './nn_functional.js';

export type Reduction = 'mean' | 'sum' | 'none';

function reduceLoss(op: string, loss: Tensor, reduction: string): Tensor {
  if (reduction === 'none') return loss;
  if (reduction === 'sum') return sumAxes(op, loss);
  if (reduction === 'mean') return meanAxes(op, loss);
  return fail(op, `reduction must be 'mean', 'sum' or 'none', got '${reduction}'`);
}

function checkOptions(op: string, o: unknown): void {
  if (o !== undefined && (o instanceof Tensor || Array.isArray(o) || typeof o !== 'object')) fail(op, 'optional arguments go in an options object');
}

const zerosLike = (t: Tensor) => full(t.shape, 0, t.dtype, t.device);

export interface ClassLossOptions {
  /** A rescaling weight per class, [C]. */
  weight?: TensorLike | null;
  /** Targets equal to this contribute nothing, also not to the mean's divisor (default -100). */
  ignoreIndex?: number;
  reduction?: Reduction;
}
export interface CrossEntropyOptions extends ClassLossOptions {
  /** Mixes the target with the uniform distribution: (1 - s) * target + s / C (default 0). */
  labelSmoothing?: number;
}

/** Where the class axis is: [C] (unbatched) or [N, C, d1, ...]. */
function classAxisOf(op: string, x: Tensor): number {
  if (x.ndim === 0) fail(op, `expects input [C] or [N, C, ...], got ${x.describe()}`);
  return x.ndim === 1 ? 0 : 1;
}

function classWeight(op: string, weight: TensorLike | null | undefined, x: Tensor, axis: number): Tensor | null {
  if (weight === undefined || weight === null) return null;
  const w = astype(asTensor(op, weight, undefined, x.device), x.dtype);
  if (w.ndim !== 1 || w.shape[0] !== x.shape[axis]) fail(op, `weight must be [${x.shape[axis]}] (one per class), got ${w.describe()}`);
  return broadcastIn(w, x.shape, [axis]);
}

/**
 * The class-index path shared by nllLoss and crossEntropy: picks -w[y]*logp[y] with a one-hot mask
 * (iota == target), so it runs the same eagerly, under jit and under autograd. Eager targets are
 * range-checked (indexTarget); traced ones out of range (other than ignoreIndex) select nothing.
 */
function classIndexLoss(op: string, logp: Tensor, target: Tensor, axis: number, o: CrossEntropyOptions): Tensor {
  const { ignoreIndex = -100, reduction = 'mean', labelSmoothing = 0 } = o;
  const shape = logp.shape;
  const others = shape.map((_, i) => i).filter((i) => i !== axis);
  const valid = ne(target, ignoreIndex);
  const hit = logicalAnd(eq(iota(shape, axis, logp.device), broadcastIn(target, shape, others)), broadcastIn(valid, shape, others));
  const w = classWeight(op, o.weight, logp, axis);
  const weighted = w ? mul(logp, w) : logp;
  // where, not a multiply by the mask: a -inf log-probability of an unpicked class must not give NaN.
  let loss = neg(sumAxes(op, where(hit, weighted, zerosLike(logp)), axis));
  const picked = w ? where(hit, w, zerosLike(logp)) : astype(hit, logp.dtype);
  if (labelSmoothing > 0) {
    const smooth = where(valid, neg(sumAxes(op, weighted, axis)), zerosLike(loss));
    loss = add(mul(loss, 1 - labelSmoothing), mul(smooth, labelSmoothing / shape[axis]));
  }
  if (reduction === 'mean') return div(sumAxes(op, loss), sumAxes(op, picked));
  return reduceLoss(op, loss, reduction);
}

/** Class-index targets: int32 with the input's shape minus the class axis (JS arrays are converted). */
function indexTarget(op: string, x: Tensor, axis: number, target: TensorLike, ignoreIndex: number): Tensor {
  const expected = x.shape.filter((_, i) => i !== axis);
  const t = target instanceof Tensor ? target : asTensor(op, target, 'int32', x.device);
  if (isFloat(t.dtype) || t.dtype === 'bool' || !shapeEqual(t.shape, expected)) {
    fail(op, `target must be int32 class indices [${expected.join(',')}] for input ${x.describe()}, got ${t.describe()}`);
  }
  if (!t.isTraced) checkTargets(op, t, x.shape[axis], ignoreIndex);
  return t;
}

/** Eager class indices must name a class (or be ignoreIndex); skipped where a sync read is impossible. */
function checkTargets(op: string, t: Tensor, classes: number, ignoreIndex: number): void {
  let values: ArrayLike<number>;
  try {
    values = t.dataSync();
  } catch {
    return;
  }
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if ((v < 0 || v >= classes) && v !== ignoreIndex) fail(op, `target ${v} is out of range for ${classes} classes (element ${i} of ${t.describe()}; ignoreIndex is ${ignoreIndex})`);
  }
}

/** Negative log-likelihood of log-probabilities x [N, C, ...] at class indices target [N, ...]. */
export function nllLoss(input: TensorLike, target: TensorLike, opts: ClassLossOptions = {}): Tensor {
  checkOptions('nllLoss', opts);
  const x = toFloat(asTensor('nllLoss', input));
  const axis = classAxisOf('nllLoss', x);
  return classIndexLoss('nllLoss', x, indexTarget('nllLoss', x, axis, target, opts.ignoreIndex ?? -100), axis, opts);
}

/**
 * Cross entropy of logits [N, C, ...] (or [C]) against class indices (int32 [N, ...]) or class
 * probabilities (float, same shape as the logits), via logSoftmax so ±1e4 logits stay finite.
 */
export function crossEntropy(logits: TensorLike, target: TensorLike, opts: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  checkOptions(op, opts);
  const x = toFloat(asTensor(op, logits));
  const axis = classAxisOf(op, x);
  const s = opts.labelSmoothing ?? 0;
  if (!(s >= 0 && s <= 1)) fail(op, `labelSmoothing must be in [0, 1], got ${s}`);
  const logp = logSoftmax(x, { axis });
  let t = target instanceof Tensor ? target : asTensor(op, target, undefined, x.device);
  if (!(target instanceof Tensor) && !shapeEqual(t.shape, x.shape)) t = astype(t, 'int32');
  if (!isFloat(t.dtype)) return classIndexLoss(op, logp, indexTarget(op, x, axis, t, opts.ignoreIndex ?? -100), axis, opts);
  if (!shapeEqual(t.shape, x.shape)) {
    const expected = x.shape.filter((_, i) => i !== axis);
    fail(op, `target must be int32 class indices [${expected.join(',')}] or probabilities shaped like the logits ${x.describe()}, got ${t.describe()}`);
  }
  let probs = astype(t, x.dtype);
  if (s > 0) probs = add(mul(probs, 1 - s), s / x.shape[axis]);
  const w = classWeight(op, opts.weight, x, axis);
  const loss = neg(sumAxes(op, mul(logp, w ? mul(probs, w) : probs), axis));
  return reduceLoss(op, loss, opts.reduction ?? 'mean');
}

// ---- regression ------------------------------------------------------------------------------------

export interface ReductionOptions {
  reduction?: Reduction;
}

function floatPair(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  const x = toFloat(asTensor(op, a));
  return [x, astype(asTensor(op, b, undefined, x.device), x.dtype)];
}

/** Mean squared error. */
export function mseLoss(input: TensorLike, target: TensorLike, opts: ReductionOptions = {}): Tensor {
  checkOptions('mseLoss', opts);
  const [x, y] = floatPair('mseLoss', input, target);
  const d = named('mseLoss', () => sub(x, y));
  return reduceLoss('mseLoss', mul(d, d), opts.reduction ?? 'mean');
}

/** Mean absolute error. */
export function l1Loss(input: TensorLike, target: TensorLike, opts: ReductionOptions = {}): Tensor {
  checkOptions('l1Loss', opts);
  const [x, y] = floatPair('l1Loss', input, target);
  return reduceLoss('l1Loss', abs(named('l1Loss', () => sub(x, y))), opts.reduction ?? 'mean');
}

/** 0.5 d² where |d| < delta, delta (|d| - delta/2) beyond (default delta 1). */
export function huberLoss(input: TensorLike, target: TensorLike, opts: ReductionOptions & { delta?: number } = {}): Tensor {
  checkOptions('huberLoss', opts);
  const delta = opts.delta ?? 1;
  if (!(delta > 0)) fail('huberLoss', `delta must be positive, got ${delta}`);
  const [x, y] = floatPair('huberLoss', input, target);
  const d = abs(named('huberLoss', () => sub(x, y)));
  return reduceLoss('huberLoss', where(lt(d, delta), mul(mul(d, d), 0.5), mul(sub(d, 0.5 * delta), delta)), opts.reduction ?? 'mean');
}

/** Huber loss divided by beta: 0.5 d²/beta where |d| < beta, |d| - beta/2 beyond (default beta 1). */
export function smoothL1Loss(input: TensorLike, target: TensorLike, opts: ReductionOptions & { beta?: number } = {}): Tensor {
  checkOptions('smoothL1Loss', opts);
  const beta = numberArg('smoothL1Loss', 'beta', opts.beta ?? 1, { min: 0 });
  const [x, y] = floatPair('smoothL1Loss', input, target);
  const d = abs(named('smoothL1Loss', () => sub(x, y)));
  if (beta === 0) return reduceLoss('smoothL1Loss', d, opts.reduction ?? 'mean');
  return reduceLoss('smoothL1Loss', where(lt(d, beta), div(mul(d, d), 2 * beta), sub(d, 0.5 * beta)), opts.reduction ?? 'mean');
}

// ---- binary and distribution losses ---------------------------------------------------------------

export interface BinaryLossOptions extends ReductionOptions {
  /** Rescales each element's loss (broadcasts). */
  weight?: TensorLike | null;
}

function sameShape(op: string, x: Tensor, y: Tensor): void {
  if (!shapeEqual(x.shape, y.shape)) fail(op, `target ${y.describe()} must have the input's shape ${x.describe()}`);
}

/**
 * Binary cross entropy on logits: (1 - y) x + (1 + (posWeight - 1) y) softplus(-x), with
 * softplus(-x) = max(-x, 0) + log1p(exp(-|x|)) so no exp ever overflows.
 */
export function binaryCrossEntropyWithLogits(logits: TensorLike, target: TensorLike, opts: BinaryLossOptions & { posWeight?: TensorLike | null } = {}): Tensor {
  const op = 'binaryCrossEntropyWithLogits';
  checkOptions(op, opts);
  const [x, y] = floatPair(op, logits, target);
  sameShape(op, x, y);
  // maximum, not relu: the gradient at a logit of exactly 0 (a zero-initialized head) is then
  // sigmoid(0) - y, not -y.
  const spNeg = add(maximum(neg(x), 0), log1p(exp(neg(abs(x)))));
  const pw = opts.posWeight;
  const logWeight = pw === undefined || pw === null ? null : add(mul(sub(astype(asTensor(op, pw, undefined, x.device), x.dtype), 1), y), 1);
  let loss = add(mul(sub(1, y), x), logWeight ? mul(logWeight, spNeg) : spNeg);
  if (opts.weight !== undefined && opts.weight !== null) loss = mul(loss, astype(asTensor(op, opts.weight, undefined, x.device), x.dtype));
  return reduceLoss(op, loss, opts.reduction ?? 'mean');
}

/** Binary cross entropy on probabilities; logs are clamped at -100 like PyTorch so 0 and 1 stay finite. */
export function binaryCrossEntropy(probs: TensorLike, target: TensorLike, opts: BinaryLossOptions = {}): Tensor {
  const op = 'binaryCrossEntropy';
  checkOptions(op, opts);
  const [p, y] = floatPair(op, probs, target);
  sameShape(op, p, y);
  const logP = maximum(log(p), -100);
  const log1mP = maximum(log(sub(1, p)), -100);
  let loss = neg(add(mul(y, logP), mul(sub(1, y), log1mP)));
  if (opts.weight !== undefined && opts.weight !== null) loss = mul(loss, astype(asTensor(op, opts.weight, undefined, p.device), p.dtype));
  return reduceLoss(op, loss, opts.reduction ?? 'mean');
}

/**
 * KL divergence with `input` given as log-probabilities (PyTorch's kl_div): target * (log target - input),
 * 0 where target is 0. Reduction 'batchmean' divides the sum by the batch size (the true KL mean).
 */
export function klDiv(input: TensorLike, target: TensorLike, opts: { reduction?: Reduction | 'batchmean'; logTarget?: boolean } = {}): Tensor {
  const op = 'klDiv';
  checkOptions(op, opts);
  const [x, t] = floatPair(op, input, target);
  const loss = opts.logTarget
    ? mul(exp(t), sub(t, x))
    : sub(mul(t, log(where(gt(t, 0), t, 1))), mul(t, x)); // t log t as xlogy: 0 where t is 0
  const reduction = opts.reduction ?? 'mean';
  if (reduction === 'batchmean') return div(sumAxes(op, loss), x.ndim ? x.shape[0] : 1);
  return reduceLoss(op, loss, reduction);
}
