// How Kiln dtypes live in WGSL: the storage type of a buffer element, the type of a value in a
// register, and literals. One table, read by the emitter and by the runtime's upload/readback.
//
// bool is stored as one u32 per element (0 or 1): WGSL storage buffers cannot hold `bool`, and a
// byte-packed layout would need atomics for neighbouring writes. In registers a bool is a WGSL `bool`.
// float64 has no WGSL type: the WebGPU device rejects it with a KilnError (cast to float32 first).
import type { DType } from '../../ir/dtype.js';
import { SHORT_NAME } from '../../ir/dtype.js';
import { KilnError } from '../../ir/error.js';

export type GpuDType = Exclude<DType, 'float64'>;

/** Element type of a storage buffer holding `dtype`. */
export const STORAGE_TYPE: Record<GpuDType, 'f32' | 'i32' | 'u32'> = { float32: 'f32', int32: 'i32', bool: 'u32' };
/** Type of a value of `dtype` in a register. */
export const REG_TYPE: Record<GpuDType, 'f32' | 'i32' | 'bool'> = { float32: 'f32', int32: 'i32', bool: 'bool' };
/** Bytes per element on the GPU (bool takes a u32). */
export const GPU_BYTES = 4;

/** Throws the WebGPU device's float64 error; returns the dtype narrowed otherwise. */
export function gpuDType(where: string, dtype: DType): GpuDType {
  if (dtype === 'float64') {
    throw new KilnError(`${where}: ${SHORT_NAME[dtype]} is not supported on webgpu (WGSL has no 64-bit floats); cast to float32 first`);
  }
  return dtype;
}

// Infinities and NaN come from helper calls: a WGSL const-expression that evaluates to inf or NaN
// is a shader-creation error, so they must not be literals.
const F32_INF = 'k_inf()';

/** A WGSL literal of `dtype` holding `value` (already rounded/wrapped the way the dtype stores it). */
export function literal(dtype: GpuDType, value: number): string {
  switch (dtype) {
    case 'bool':
      return value !== 0 ? 'true' : 'false';
    case 'int32': {
      const v = value | 0;
      // -2147483648i does not parse (unary minus applied to an out-of-range literal).
      return v === -2147483648 ? 'bitcast<i32>(0x80000000u)' : `${v}i`;
    }
    case 'float32': {
      const v = Math.fround(value);
      if (v !== v) return 'k_nan()';
      if (v === Infinity) return F32_INF;
      if (v === -Infinity) return `(-${F32_INF})`;
      if (Object.is(v, -0)) return '-0.0f';
      // The shortest decimal of the f32 value (as a double) parses back to the same f32.
      const s = String(v);
      return s.startsWith('-') ? `(${s}f)` : `${s}f`;
    }
  }
}

/** WGSL text converting a loaded storage element `x` to a register value. */
export function fromStorage(dtype: GpuDType, x: string): string {
  return dtype === 'bool' ? `(${x} != 0u)` : x;
}

/** WGSL text converting a register value `x` to its storage element. */
export function toStorage(dtype: GpuDType, x: string): string {
  return dtype === 'bool' ? `select(0u, 1u, ${x})` : x;
}
