// Tensor creation: filled tensors, ranges and identity, staged as constant/iota ops so that
// inside jit they become part of the graph instead of baked-in data.
import type { DType } from '../ir/dtype.js';
import { isDType } from '../ir/dtype.js';
import { KilnError } from '../ir/error.js';
import { Tensor } from './tensor.js';
import { shapeArg, show, tensorArg } from './args.js';
import { bind1, defaultDevice } from './trace.js';
import { add, mul, eq, astype } from './ops/elementwise.js';

export interface CreationOptions {
  dtype?: DType;
  device?: string;
}

function checkShape(op: string, shape: readonly number[]): number[] {
  return [...shapeArg(op, shape)];
}
function checkDType(op: string, dtype: DType | undefined, fallback: DType): DType {
  const d = dtype ?? fallback;
  if (!isDType(d)) throw new KilnError(`${op}: unknown dtype '${String(d)}'`);
  return d;
}

/** A tensor of `shape` filled with `value` (dtype float32 unless given; booleans give bool). */
export function full(shape: readonly number[], value: number | boolean, opts: CreationOptions = {}): Tensor {
  return filled('full', shape, value, opts);
}
export const zeros = (shape: readonly number[], opts: CreationOptions = {}) => filled('zeros', shape, 0, opts);
export const ones = (shape: readonly number[], opts: CreationOptions = {}) => filled('ones', shape, 1, opts);

function filled(op: string, shape: readonly number[], value: number | boolean, opts: CreationOptions): Tensor {
  if (typeof value !== 'number' && typeof value !== 'boolean') throw new KilnError(`${op}: value must be a number or a boolean, got ${show(value)}`);
  const dtype = checkDType(op, opts?.dtype, typeof value === 'boolean' ? 'bool' : 'float32');
  return bind1('constant', [], { value: [Number(value)], dtype, shape: checkShape(op, shape), device: opts?.device ?? defaultDevice() });
}

export const fullLike = (x: Tensor, value: number | boolean, opts: CreationOptions = {}) => filledLike('fullLike', x, value, opts);
export const zerosLike = (x: Tensor, opts: CreationOptions = {}) => filledLike('zerosLike', x, 0, opts);
export const onesLike = (x: Tensor, opts: CreationOptions = {}) => filledLike('onesLike', x, 1, opts);

function filledLike(op: string, x: Tensor, value: number | boolean, opts: CreationOptions): Tensor {
  tensorArg(op, x);
  return filled(op, x.shape, value, { dtype: opts?.dtype ?? x.dtype, device: opts?.device ?? x.device });
}

/**
 * Values start, start+step, ... below stop (NumPy arange; `arange(n)` is 0..n-1). int32 when all
 * arguments are integers. The options object may follow any number of the numbers: `arange(5, {dtype})`.
 */
export function arange(start: number, stop?: number | CreationOptions, step?: number | CreationOptions, opts: CreationOptions = {}): Tensor {
  if (typeof stop === 'object') [stop, opts] = [undefined, stop];
  if (typeof step === 'object') [step, opts] = [undefined, step];
  step ??= 1;
  if (stop === undefined) [start, stop] = [0, start];
  if (!Number.isFinite(start) || !Number.isFinite(stop)) throw new KilnError(`arange: start and stop must be finite numbers, got ${start}, ${stop}`);
  if (step === 0 || !Number.isFinite(step)) throw new KilnError(`arange: step must be a non-zero finite number, got ${step}`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const allInt = [start, stop, step].every(Number.isInteger);
  const dtype = checkDType('arange', opts.dtype, allInt ? 'int32' : 'float32');
  const device = opts.device ?? defaultDevice();
  const idx = bind1('iota', [], { shape: [n], dimension: 0, dtype: dtype === 'bool' ? 'int32' : dtype === 'int32' ? 'int32' : dtype, device });
  if (start === 0 && step === 1) return astype(idx, dtype);
  return astype(add(mul(idx, step), start), dtype);
}

/** `num` evenly spaced values from start to stop (inclusive unless endpoint is false). */
export function linspace(start: number, stop: number, num = 50, opts: CreationOptions & { endpoint?: boolean } = {}): Tensor {
  if (!Number.isInteger(num) || num < 0) throw new KilnError(`linspace: num must be a non-negative integer, got ${num}`);
  const div = opts.endpoint === false ? num : num - 1;
  const step = div > 0 ? (stop - start) / div : 0;
  const dtype = checkDType('linspace', opts.dtype, 'float32');
  const idx = bind1('iota', [], { shape: [num], dimension: 0, dtype: 'float32', device: opts.device ?? defaultDevice() });
  return astype(add(mul(idx, step), start), dtype);
}

/** Identity matrix n×m (m defaults to n). */
export function eye(n: number, m = n, opts: CreationOptions = {}): Tensor {
  checkShape('eye', [n, m]);
  const device = opts.device ?? defaultDevice();
  const rows = bind1('iota', [], { shape: [n, m], dimension: 0, dtype: 'int32', device });
  const cols = bind1('iota', [], { shape: [n, m], dimension: 1, dtype: 'int32', device });
  return astype(eq(rows, cols), checkDType('eye', opts.dtype, 'float32'));
}
