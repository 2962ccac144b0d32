// Turning what a caller passes to `art.run` into host arrays of the signature's dtypes and shapes:
// tensors (kiln's or the runtime's), {data, shape} records, typed arrays and nested arrays. A flat
// array fills the declared shape, its batch dimension inferred from the length.
import { KilnError } from '../ir/error.js';
import type { DType, TypedArray } from '../ir/dtype.js';
import { allocArray } from '../ir/dtype.js';
import type { HostArray } from '../ir/array.js';
import type { Dim, TensorSpec } from '../format/manifest.js';
import { parseDimExpr } from '../format/manifest.js';

export type NestedInput = number | boolean | NestedInput[];

/** Anything with a shape and values: kiln Tensors (`data()` is async), runtime tensors, plain records. */
export interface TensorLikeInput {
  readonly shape: readonly number[];
  readonly dtype?: string;
  readonly data: ArrayLike<number> | (() => Promise<ArrayLike<number>>);
}

export type ArtifactInput = TensorLikeInput | TypedArray | ArrayLike<number> | NestedInput[];

function isTypedArray(x: unknown): x is TypedArray | Int8Array | Int16Array | Uint16Array | Uint32Array | Uint8ClampedArray {
  return ArrayBuffer.isView(x) && !(x instanceof DataView) && !(typeof BigInt64Array !== 'undefined' && (x instanceof BigInt64Array || x instanceof BigUint64Array));
}

/** Values and (when the input says) shape, with async tensor reads resolved. */
export async function readInput(where: string, x: unknown): Promise<{ values: ArrayLike<number | boolean>; shape?: number[] }> {
  if (isTypedArray(x)) return { values: x };
  if (Array.isArray(x)) {
    const shape: number[] = [];
    let level: unknown = x;
    while (Array.isArray(level)) {
      shape.push(level.length);
      if (level.length === 0) break;
      level = level[0];
    }
    const flat: (number | boolean)[] = [];
    const walk = (v: unknown, dim: number, path: string): void => {
      if (dim === shape.length) {
        if (typeof v !== 'number' && typeof v !== 'boolean') throw new KilnError(`${where}: element ${path} is ${Array.isArray(v) ? 'an array (ragged nesting)' : typeof v}, expected a number`);
        flat.push(v);
        return;
      }
      if (!Array.isArray(v) || v.length !== shape[dim]) throw new KilnError(`${where}: ragged nested array at ${path || 'the top level'}: expected length ${shape[dim]}`);
      v.forEach((y, i) => walk(y, dim + 1, `${path}[${i}]`));
    };
    walk(x, 0, '');
    return { values: flat, shape };
  }
  if (typeof x === 'object' && x !== null && 'shape' in x && 'data' in x) {
    const t = x as TensorLikeInput;
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new KilnError(`${where}: shape must be an array of non-negative integers`);
    const data = typeof t.data === 'function' ? await t.data() : t.data;
    if (!isTypedArray(data) && !Array.isArray(data)) throw new KilnError(`${where}: data must be a typed array or an array of numbers`);
    return { values: data as ArrayLike<number>, shape: [...t.shape] };
  }
  throw new KilnError(`${where}: expected a tensor, {data, shape}, a typed array or a nested array, got ${x === null ? 'null' : typeof x}`);
}

/** The concrete shape of `spec` at batch `n` (undefined n: symbols are unresolved). */
export function concreteShape(spec: readonly Dim[], symbol: string | undefined, n: number): number[] {
  return spec.map((d) => {
    if (typeof d === 'number') return d;
    const ab = parseDimExpr(d, symbol ?? '');
    if (!ab) throw new KilnError(`artifact: dimension ${JSON.stringify(d)} is not over the batch symbol`);
    return ab[0] * n + ab[1];
  });
}

/** The batch size this input implies (undefined when its shape has no symbol). */
export function inferBatch(where: string, spec: TensorSpec, symbol: string | undefined, got: { values: ArrayLike<unknown>; shape?: number[] }): number | undefined {
  const show = `[${spec.shape.join(',')}]`;
  if (got.shape === undefined) {
    // Flat data: fixed dims multiply to a per-batch size; the one symbolic dim (if any) takes the rest.
    const sym = spec.shape.findIndex((d) => typeof d === 'string');
    if (sym < 0) return undefined;
    if (spec.shape.filter((d) => typeof d === 'string').length > 1 || spec.shape[sym] !== symbol) {
      throw new KilnError(`${where}: a flat array cannot fill shape ${show}; pass {data, shape}`);
    }
    const per = spec.shape.reduce<number>((p, d) => (typeof d === 'number' ? p * d : p), 1);
    if (per === 0 || got.values.length % per !== 0) throw new KilnError(`${where}: ${got.values.length} values do not fill shape ${show} for any ${symbol} (${per} values per batch entry)`);
    return got.values.length / per;
  }
  if (got.shape.length !== spec.shape.length) throw new KilnError(`${where}: shape [${got.shape.join(',')}] has rank ${got.shape.length}, the artifact expects ${show}`);
  let n: number | undefined;
  spec.shape.forEach((d, i) => {
    if (typeof d !== 'string') return;
    const [a, b] = parseDimExpr(d, symbol ?? '') ?? [1, 0];
    const m = (got.shape![i] - b) / a;
    if (!Number.isSafeInteger(m) || m < 0) throw new KilnError(`${where}: dimension ${i} is ${got.shape![i]}, which is not ${d} for any batch size`);
    if (n !== undefined && n !== m) throw new KilnError(`${where}: shape [${got.shape!.join(',')}] implies two batch sizes (${n} and ${m}) for ${show}`);
    n = m;
  });
  return n;
}

/** Copies values into a fresh array of `dtype` and `shape`, checking count and value ranges. */
export function toHostArray(where: string, dtype: DType, shape: number[], got: { values: ArrayLike<number | boolean>; shape?: number[] }): HostArray {
  if (got.shape !== undefined && (got.shape.length !== shape.length || got.shape.some((d, i) => d !== shape[i]))) {
    throw new KilnError(`${where}: shape [${got.shape.join(',')}] does not match the expected [${shape.join(',')}]`);
  }
  const n = shape.reduce((p, d) => p * d, 1);
  if (got.values.length !== n) throw new KilnError(`${where}: ${got.values.length} values for shape [${shape.join(',')}] (${n} expected)`);
  const out = allocArray(dtype, n);
  const src = got.values;
  for (let i = 0; i < n; i++) {
    const raw = src[i];
    const v = typeof raw === 'boolean' ? (raw ? 1 : 0) : Number(raw);
    if (dtype === 'int32' && (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff)) throw new KilnError(`${where}: element ${i} is ${v}, not an int32`);
    if (dtype === 'bool' && v !== 0 && v !== 1) throw new KilnError(`${where}: element ${i} is ${v}, not a boolean (0/1)`);
    out[i] = v;
  }
  return { dtype, shape, data: out };
}
