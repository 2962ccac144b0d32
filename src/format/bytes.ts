// Byte-level helpers shared by the file formats (safetensors, npy, artifacts): strict UTF-8, bounded
// little-endian integers and JSON parsing that can only fail with a KilnError.
import { KilnError } from '../ir/error.js';
import type { DType, TypedArray } from '../ir/dtype.js';
import { BYTES, allocArray } from '../ir/dtype.js';

const encoder = new TextEncoder();
// fatal: malformed UTF-8 is an error, not silently replaced characters.
const decoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function fromUtf8(where: string, bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new KilnError(`${where}: not valid UTF-8`);
  }
}

/** A u64 little-endian that must fit a JS safe integer (anything larger is no real size). */
export function readU64(where: string, bytes: Uint8Array, offset: number): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = v.getUint32(offset, true);
  const hi = v.getUint32(offset + 4, true);
  if (hi >= 0x200000) throw new KilnError(`${where}: declared size ${(BigInt(hi) << 32n) | BigInt(lo)} is larger than any file`);
  return hi * 2 ** 32 + lo;
}

export function writeU64(bytes: Uint8Array, offset: number, value: number): void {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  v.setUint32(offset, value % 2 ** 32, true);
  v.setUint32(offset + 4, Math.floor(value / 2 ** 32), true);
}

/** JSON.parse whose every failure (syntax, nesting too deep for the stack) is a KilnError. */
export function parseJson(where: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new KilnError(`${where}: malformed JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

export function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Element bytes (little-endian, as the files store them) into a fresh typed array of `dtype`. */
export function decodeElements(dtype: DType, bytes: Uint8Array, count: number): TypedArray {
  const out = allocArray(dtype, count);
  const width = BYTES[dtype];
  if (LITTLE_ENDIAN || width === 1) {
    // Copy through bytes: the source may sit at any alignment inside the file.
    new Uint8Array(out.buffer, out.byteOffset, count * width).set(bytes.subarray(0, count * width));
    return out;
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; i++) {
    if (dtype === 'float32') out[i] = v.getFloat32(i * 4, true);
    else if (dtype === 'float64') out[i] = v.getFloat64(i * 8, true);
    else out[i] = v.getInt32(i * 4, true);
  }
  return out;
}

/** A typed array's elements as little-endian bytes (a copy). */
export function encodeElements(dtype: DType, data: TypedArray): Uint8Array {
  const width = BYTES[dtype];
  if (LITTLE_ENDIAN || width === 1) return new Uint8Array(data.buffer, data.byteOffset, data.length * width).slice();
  const out = new Uint8Array(data.length * width);
  const v = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    if (dtype === 'float32') v.setFloat32(i * 4, data[i], true);
    else if (dtype === 'float64') v.setFloat64(i * 8, data[i], true);
    else v.setInt32(i * 4, data[i], true);
  }
  return out;
}

/** A shape read from a file: non-negative safe integers whose product is a safe integer too. */
export function checkShape(where: string, shape: unknown): number[] {
  if (!Array.isArray(shape)) throw new KilnError(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) throw new KilnError(`${where}: shape [${shape.map((x) => JSON.stringify(x)).join(',')}] has a dimension that is not a non-negative integer`);
    n *= d;
    if (!Number.isSafeInteger(n)) throw new KilnError(`${where}: shape [${shape.join(',')}] has more elements than any file can hold`);
  }
  return shape as number[];
}

/** A value as error messages show it (JSON where possible, cut short). */
export function describeValue(x: unknown): string {
  if (x === undefined) return 'undefined';
  if (typeof x === 'function') return 'a function';
  if (ArrayBuffer.isView(x)) return `${x.constructor.name}(${(x as unknown as ArrayLike<number>).length})`;
  let s: string;
  try {
    s = JSON.stringify(x) ?? String(x);
  } catch {
    s = Object.prototype.toString.call(x);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
