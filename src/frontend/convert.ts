// Turning user values (tensors, numbers, booleans, nested arrays, typed arrays) into Tensors,
// and the dtype rules for mixing them: JS numbers are "weak" and adopt the tensor's dtype.
import { DType, TypedArray, isDType, promoteTypes } from '../ir/dtype.js';
import { KilnError } from '../ir/error.js';
import { hostArray } from '../ir/array.js';
import { Tensor, NestedArray } from './tensor.js';
import { defaultDevice } from './trace.js';
import { named, show } from './args.js';

export type TensorLike = Tensor | NestedArray | TypedArray;

export interface TensorOptions {
  dtype?: DType;
  device?: string;
  requiresGrad?: boolean;
}

function typedArrayDType(a: TypedArray): DType {
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint8Array) return 'bool';
  if (a instanceof Float64Array) return 'float32';
  return 'float32';
}

/** Shape of a nested array; throws naming `op` when it is ragged or holds non-numbers. */
export function nestedShape(op: string, data: NestedArray): number[] {
  const shape: number[] = [];
  let level: NestedArray = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  const check = (x: NestedArray, dim: number, path: string): void => {
    if (dim === shape.length) {
      if (Array.isArray(x)) throw new KilnError(`${op}: ragged nested array: element ${path || '[]'} is an array, expected a number (shape so far [${shape.join(',')}])`);
      if (typeof x !== 'number' && typeof x !== 'boolean') throw new KilnError(`${op}: element ${path} is ${typeof x}, expected a number or boolean`);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[dim]) {
      throw new KilnError(`${op}: ragged nested array: ${path || 'the top level'} has ${Array.isArray(x) ? `length ${x.length}` : 'a scalar'} where length ${shape[dim]} was expected`);
    }
    x.forEach((y, i) => check(y, dim + 1, `${path}[${i}]`));
  };
  check(data, 0, '');
  return shape;
}

function flatten(data: NestedArray, out: number[]): void {
  if (Array.isArray(data)) for (const x of data) flatten(x, out);
  else out.push(typeof data === 'boolean' ? (data ? 1 : 0) : data);
}

function isBooleanData(data: NestedArray): boolean {
  let x: NestedArray = data;
  while (Array.isArray(x)) {
    if (x.length === 0) return false;
    x = x[0];
  }
  return typeof x === 'boolean';
}

/** Creates an eager tensor from data (PyTorch's torch.tensor; numbers default to float32). */
export function tensor(data: TensorLike, options: TensorOptions = {}): Tensor {
  const device = options.device ?? defaultDevice();
  if (options.dtype !== undefined && !isDType(options.dtype)) throw new KilnError(`tensor: unknown dtype '${String(options.dtype)}' (expected float32, int32, bool or float64)`);
  let t: Tensor;
  if (data instanceof Tensor) {
    t = data;
  } else if (ArrayBuffer.isView(data)) {
    const dtype = options.dtype ?? typedArrayDType(data);
    t = Tensor._fromHost(hostArray(dtype, [data.length], data), device);
  } else {
    const shape = nestedShape('tensor', data);
    const flat: number[] = [];
    flatten(data, flat);
    const dtype = options.dtype ?? (isBooleanData(data) ? 'bool' : 'float32');
    t = Tensor._fromHost(hostArray(dtype, shape, flat), device);
  }
  if (options.requiresGrad) {
    if (t.dtype !== 'float32' && t.dtype !== 'float64') throw new KilnError(`tensor: only float tensors can require gradients, got ${t.describe()}`);
    t.requiresGrad = true;
  }
  return t;
}

/** A JS number's dtype when combined with a tensor of dtype `other` (weak typing, as in JAX). */
export function weakScalarDType(value: number | boolean, other: DType): DType {
  if (typeof value === 'boolean') return other;
  if (Number.isInteger(value) || !Number.isFinite(value)) return other === 'bool' && Number.isInteger(value) ? 'int32' : other === 'bool' ? 'float32' : other;
  return other === 'float64' ? 'float64' : 'float32';
}

/** Converts operands of a binary op: tensors promote (NumPy), JS scalars adopt the tensor dtype. */
export function toTensors(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  if (a instanceof Tensor) return [a, b instanceof Tensor ? b : scalarLike(op, b, a)];
  if (b instanceof Tensor) return [scalarLike(op, a, b), b];
  return [asTensor(op, a), asTensor(op, b)];
}

function scalarLike(op: string, x: Exclude<TensorLike, Tensor>, like: Tensor): Tensor {
  if (typeof x === 'number' || typeof x === 'boolean') {
    return tensor(x, { dtype: weakScalarDType(x, like.dtype), device: like.device });
  }
  return asTensor(op, x, undefined, like.device);
}

/**
 * Where an op's plain-array arguments and internal tensors go: the device of its first tensor
 * argument (as in PyTorch and JAX), else the current default. Without this a call on 'cpu-ref'
 * inputs would build its constants on the default device and fail to mix them.
 */
export function deviceOf(...xs: unknown[]): string | undefined {
  for (const x of xs) if (x instanceof Tensor) return x.device;
  return undefined;
}

/** Any TensorLike as a Tensor (numbers become float32 scalars unless a dtype is given). */
export function asTensor(op: string, x: TensorLike, dtype?: DType, device?: string): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x !== 'number' && typeof x !== 'boolean' && !Array.isArray(x) && !ArrayBuffer.isView(x)) {
    throw new KilnError(`${op}: expected a tensor, got ${show(x)}`);
  }
  return named(op, () => tensor(x, { dtype, device }));
}

export function resultDType(a: Tensor, b: Tensor): DType {
  return promoteTypes(a.dtype, b.dtype);
}
