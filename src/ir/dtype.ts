// DTypes, their typed-array storage and NumPy-style promotion.
import { KilnError } from './error.js';

export type DType = 'float32' | 'int32' | 'bool' | 'float64';
export const DTYPES: readonly DType[] = ['bool', 'int32', 'float32', 'float64'];

export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** Short names used in the IR text format and in error messages (`f32[3,4]`). */
export const SHORT_NAME: Record<DType, string> = { float32: 'f32', float64: 'f64', int32: 'i32', bool: 'bool' };
export const FROM_SHORT_NAME: Record<string, DType> = { f32: 'float32', f64: 'float64', i32: 'int32', bool: 'bool' };

export const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };

export function isFloat(d: DType): boolean {
  return d === 'float32' || d === 'float64';
}

export function isDType(x: unknown): x is DType {
  return typeof x === 'string' && (DTYPES as readonly string[]).includes(x);
}

/** The most elements one host array may hold (V8's typed-array limit is 2^32 bytes or more). */
const MAX_ELEMENTS = 2 ** 31 - 1;

/** A fresh zero-filled typed array holding `n` elements of `dtype`. */
export function allocArray(dtype: DType, n: number): TypedArray {
  // A size from a shape nobody checked (a huge declared dimension) is an error, not a RangeError.
  if (!(n >= 0 && n <= MAX_ELEMENTS && Number.isInteger(n))) throw new KilnError(`cannot allocate ${n} elements of ${dtype}: at most ${MAX_ELEMENTS} elements fit in one array`);
  switch (dtype) {
    case 'float32': return new Float32Array(n);
    case 'float64': return new Float64Array(n);
    case 'int32': return new Int32Array(n);
    case 'bool': return new Uint8Array(n);
  }
}

// Promotion lattice bool < int32 < float32 < float64 (NumPy's, restricted to our dtypes).
const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/** Rounds a JS number to what a `dtype` element would store (f32 rounding, i32 wrap, bool 0/1). */
export function coerce(dtype: DType, x: number): number {
  switch (dtype) {
    case 'float32': return Math.fround(x);
    case 'float64': return x;
    case 'int32': return x | 0;
    case 'bool': return x ? 1 : 0;
  }
}
