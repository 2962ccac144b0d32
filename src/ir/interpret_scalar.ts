// Scalar semantics of the elementwise primitives, per dtype family: the functions the reference
// interpreter maps over arrays. Inputs and results are JS numbers (f64); storing rounds/wraps.
import type { BinaryOp, UnaryOp } from './ops.js';
import type { DType } from './dtype.js';

export type UnaryFn = (x: number) => number;
export type BinaryFn = (a: number, b: number) => number;

// ---- special functions ---------------------------------------------------------------------------

const TWO_OVER_SQRT_PI = 1.1283791670955126; // 2/sqrt(pi)
const ONE_OVER_SQRT_PI = 0.5641895835477563; // 1/sqrt(pi)

/**
 * erf to float64 quality (relative error ~1e-15). Below 2.5 the all-positive series
 * erf(x) = 2/sqrt(pi) e^(-x^2) sum_n (2x^2)^n x / (1*3*...*(2n+1)) has no cancellation; above it the
 * Laplace continued fraction for erfc converges fast and erfc < 4e-4, so 1 - erfc loses nothing.
 */
export function erf(x: number): number {
  if (x !== x) return NaN;
  const ax = Math.abs(x);
  // erfc(6) ~ 2e-17 is below half an ulp of 1, so erf is exactly +-1 in f64 from here on.
  if (ax >= 6) return x > 0 ? 1 : -1;
  const x2 = ax * ax;
  let r: number;
  if (ax < 2.5) {
    let term = ax;
    let sum = ax;
    for (let n = 0; n < 200 && term > sum * 1e-17; n++) {
      term *= (2 * x2) / (2 * n + 3);
      sum += term;
    }
    r = TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
  } else {
    // erfc(x) = e^(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated bottom-up.
    let f = ax;
    for (let n = 60; n >= 1; n--) f = ax + n / 2 / f;
    r = 1 - (ONE_OVER_SQRT_PI * Math.exp(-x2)) / f;
  }
  return x < 0 ? -r : r;
}

/** Round half to even (banker's rounding, like NumPy and IEEE roundTiesToEven). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x); // ties toward +Infinity
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Logistic function without overflow: exp is only taken of a non-positive argument. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** C99/IEEE pow: unlike Math.pow, pow(1, y) = 1 for every y (NaN too) and pow(-1, +-inf) = 1. */
export function powFloat(x: number, y: number): number {
  if (x === 1) return 1;
  if (x === -1 && (y === Infinity || y === -Infinity)) return 1;
  return Math.pow(x, y);
}

/** Python/NumPy float modulo: the result takes the sign of the divisor (zero too). */
export function floorModFloat(a: number, b: number): number {
  let r = a % b;
  if (r !== 0) {
    if (r < 0 !== b < 0) r += b;
  } else {
    r = b < 0 ? -0 : 0;
  }
  return r;
}

/** Floor division of int32s; the exact quotient never rounds across an integer in f64. x/0 = 0. */
export function floorDivInt(a: number, b: number): number {
  return b === 0 ? 0 : Math.floor(a / b) | 0;
}

/** Floor modulo of int32s (sign of the divisor); x mod 0 = 0. */
export function floorModInt(a: number, b: number): number {
  if (b === 0) return 0;
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r | 0;
}

/** Integer power with int32 wraparound; a negative exponent truncates 1/b^-e toward zero. */
export function intPow(base: number, exp: number): number {
  if (exp < 0) {
    if (base === 1) return 1;
    if (base === -1) return exp % 2 === 0 ? 1 : -1;
    return 0;
  }
  let result = 1;
  let b = base | 0;
  for (let e = exp; e > 0; e = Math.floor(e / 2)) {
    if (e % 2 === 1) result = Math.imul(result, b);
    b = Math.imul(b, b);
  }
  return result;
}

/** float -> int32: truncate toward zero, saturate at the int32 range, NaN -> 0 (wasm trunc_sat). */
export function toInt32Saturating(x: number): number {
  if (x !== x) return 0;
  if (x >= 2147483647) return 2147483647;
  if (x <= -2147483648) return -2147483648;
  return Math.trunc(x) | 0;
}

/** anything -> bool: x != 0 (so NaN is true, like NumPy). */
export function toBool(x: number): number {
  return x !== 0 ? 1 : 0;
}

/** The value a `dtype` element holds after `cast` (and for constants and pad values). */
export function castScalar(x: number, dtype: DType): number {
  switch (dtype) {
    case 'int32': return toInt32Saturating(x);
    case 'bool': return toBool(x);
    default: return x; // float stores round (Float32Array) or keep (Float64Array)
  }
}

// ---- per-op tables ------------------------------------------------------------------------------

const sign: UnaryFn = (x) => (x > 0 ? 1 : x < 0 ? -1 : x); // 0, -0 and NaN map to themselves

/** Float semantics of the unary ops (float32 results are rounded by the store). */
export const FLOAT_UNARY: { [P in UnaryOp]: UnaryFn } = {
  neg: (x) => -x,
  abs: Math.abs,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  sigmoid,
  relu: (x) => (x > 0 ? x : x === x ? 0 : x), // max(x, 0) with NaN propagated, like NumPy maximum
  floor: Math.floor,
  ceil: Math.ceil,
  round: roundHalfEven,
  sign,
  not: () => NaN, // rejected by the op table for floats
  isnan: (x) => (x !== x ? 1 : 0),
  log1p: Math.log1p,
  expm1: Math.expm1,
  erf,
};

/** int32 semantics (the Int32Array store wraps, e.g. neg(-2^31) = -2^31); bool adds toBool after. */
export const INT_UNARY: { [P in UnaryOp]: UnaryFn } = {
  ...FLOAT_UNARY,
  floor: (x) => x,
  ceil: (x) => x,
  round: (x) => x,
  relu: (x) => (x > 0 ? x : 0),
  not: (x) => ~x,
  isnan: () => 0,
};

const cmp = {
  eq: (a: number, b: number) => (a === b ? 1 : 0),
  ne: (a: number, b: number) => (a !== b ? 1 : 0),
  lt: (a: number, b: number) => (a < b ? 1 : 0),
  le: (a: number, b: number) => (a <= b ? 1 : 0),
  gt: (a: number, b: number) => (a > b ? 1 : 0),
  ge: (a: number, b: number) => (a >= b ? 1 : 0),
};

/** Float semantics of the binary ops; max/min propagate NaN (Math.max/min do). */
export const FLOAT_BINARY: { [P in BinaryOp]: BinaryFn } = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: powFloat,
  max: Math.max,
  min: Math.min,
  mod: floorModFloat,
  atan2: Math.atan2,
  ...cmp,
  and: () => NaN, // rejected by the op table for floats
  or: () => NaN,
};

/** int32 semantics: wraparound arithmetic, floor division/modulo, bitwise and/or. */
export const INT_BINARY: { [P in BinaryOp]: BinaryFn } = {
  ...FLOAT_BINARY,
  mul: Math.imul,
  div: floorDivInt,
  pow: intPow,
  mod: floorModInt,
  and: (a, b) => a & b,
  or: (a, b) => a | b,
};
