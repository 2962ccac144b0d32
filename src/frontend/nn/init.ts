// Parameter initializers (torch.nn.init): each returns a fresh tensor of the given shape, drawn
// from the global seed (manualSeed) unless a key is passed.
import { KilnError } from '../../ir/error.js';
import type { Tensor } from '../tensor.js';
import { rand, randn } from '../random.js';
import { zeros as zerosT, ones as onesT, full } from '../creation.js';
import { add, mul } from '../ops/elementwise.js';

export interface InitOptions {
  key?: Tensor;
  device?: string;
}

/** fan_in and fan_out of a weight shaped [out, in, ...kernel] (PyTorch's convention). */
export function fans(shape: readonly number[]): [number, number] {
  if (shape.length < 2) throw new KilnError(`init: fan in/out need at least 2 dimensions, got [${shape.join(',')}]`);
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return [shape[1] * receptive, shape[0] * receptive];
}

export type Nonlinearity = 'relu' | 'leaky_relu' | 'linear' | 'tanh' | 'sigmoid';
export function gain(nonlinearity: Nonlinearity = 'leaky_relu', negativeSlope = 0.01): number {
  switch (nonlinearity) {
    case 'relu': return Math.SQRT2;
    case 'leaky_relu': return Math.sqrt(2 / (1 + negativeSlope * negativeSlope));
    case 'tanh': return 5 / 3;
    default: return 1;
  }
}

/**
 * Elements the initializers may still create (null: no limit). Modules built from untrusted specs set
 * it (withParameterBudget), so a layer declaring 10^12 weights is an error before anything is allocated.
 */
let budget: { left: number; max: number; what: string } | null = null;

function charge(shape: readonly number[]): void {
  if (!budget) return;
  const n = shape.reduce((a, d) => a * d, 1);
  if (!(n <= budget.left)) {
    throw new KilnError(`${budget.what}: a parameter of shape [${shape.join(',')}] (${n} elements) exceeds the budget of ${budget.max} parameter elements (${budget.max - budget.left} used)`);
  }
  budget.left -= n;
}

/** Runs `fn` (building modules) with at most `max` parameter elements created by the initializers. */
export function withParameterBudget<T>(max: number, what: string, fn: () => T): T {
  const prev = budget;
  budget = { left: max, max, what };
  try {
    return fn();
  } finally {
    budget = prev;
  }
}

export function uniform(shape: readonly number[], low: number, high: number, opts: InitOptions = {}): Tensor {
  charge(shape);
  return add(mul(rand([...shape], opts), high - low), low);
}
export function normal(shape: readonly number[], mean = 0, std = 1, opts: InitOptions = {}): Tensor {
  charge(shape);
  return add(mul(randn([...shape], opts), std), mean);
}
export function zeros(shape: readonly number[], opts: InitOptions = {}): Tensor {
  charge(shape);
  return zerosT([...shape], { device: opts.device });
}
export function ones(shape: readonly number[], opts: InitOptions = {}): Tensor {
  charge(shape);
  return onesT([...shape], { device: opts.device });
}
export function constant(shape: readonly number[], value: number, opts: InitOptions = {}): Tensor {
  charge(shape);
  return full([...shape], value, { device: opts.device });
}

/** He/Kaiming uniform; with the defaults (a = sqrt(5)) it is PyTorch's default for Linear and Conv. */
export function kaimingUniform(shape: readonly number[], opts: InitOptions & { a?: number; mode?: 'fanIn' | 'fanOut'; nonlinearity?: Nonlinearity } = {}): Tensor {
  const [fanIn, fanOut] = fans(shape);
  const g = gain(opts.nonlinearity ?? 'leaky_relu', opts.a ?? Math.sqrt(5));
  const bound = g * Math.sqrt(3 / (opts.mode === 'fanOut' ? fanOut : fanIn));
  return uniform(shape, -bound, bound, opts);
}
export function kaimingNormal(shape: readonly number[], opts: InitOptions & { a?: number; mode?: 'fanIn' | 'fanOut'; nonlinearity?: Nonlinearity } = {}): Tensor {
  const [fanIn, fanOut] = fans(shape);
  const g = gain(opts.nonlinearity ?? 'leaky_relu', opts.a ?? 0);
  return normal(shape, 0, g / Math.sqrt(opts.mode === 'fanOut' ? fanOut : fanIn), opts);
}
export function xavierUniform(shape: readonly number[], opts: InitOptions & { gain?: number } = {}): Tensor {
  const [fanIn, fanOut] = fans(shape);
  const bound = (opts.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut));
  return uniform(shape, -bound, bound, opts);
}
export function xavierNormal(shape: readonly number[], opts: InitOptions & { gain?: number } = {}): Tensor {
  const [fanIn, fanOut] = fans(shape);
  return normal(shape, 0, (opts.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut)), opts);
}
