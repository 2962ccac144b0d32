// Small wasm helpers of the kernel emitter: element sizes, loads and stores per dtype, lane
// extraction and splats, and the accumulator combine ops at either width.
import type { DType } from '../../ir/dtype.js';
import { KilnError } from '../../ir/error.js';
import binaryen from './binaryen.js';
import type { E, Module } from './binaryen.js';
import type { Lanes } from './lanes.js';
import { family } from './emit_ops.js';

const I32 = binaryen.i32;

export const BYTES_OF: Record<DType, number> = { float32: 4, int32: 4, bool: 1, float64: 8 };

/** The i32x4 constant [0, c, 2c, 3c] (lane offsets of an index with coefficient c). */
export function laneOffsets(m: Module, c: number): E {
  const bytes = new Uint8Array(16);
  new DataView(bytes.buffer).setInt32(0, 0, true);
  for (let j = 0; j < 4; j++) new DataView(bytes.buffer).setInt32(4 * j, c * j, true);
  return m.v128.const([...bytes]);
}

export function typeOf(d: DType): number {
  return family(d) === 'float' ? binaryen.f32 : I32;
}


export function splat(m: Module, d: DType, x: E): E {
  return family(d) === 'float' ? m.f32x4.splat(x) : m.i32x4.splat(x);
}

export function extractLane(m: Module, d: DType, v: E, j: number): E {
  return family(d) === 'float' ? m.f32x4.extract_lane(v, j) : m.i32x4.extract_lane(v, j);
}

export function loadScalar(m: Module, d: DType, addr: E): E {
  switch (family(d)) {
    case 'float': return m.f32.load(0, 4, addr);
    case 'int': return m.i32.load(0, 4, addr);
    default: return m.i32.load8_u(0, 1, addr);
  }
}

export function storeScalar(m: Module, d: DType, addr: E, value: E): E {
  switch (family(d)) {
    case 'float': return m.f32.store(0, 4, addr, value);
    case 'int': return m.i32.store(0, 4, addr, value);
    default: return m.i32.store8(0, 1, addr, value);
  }
}

/** combine(acc, v) for sum/prod/max/min at the lanes' width (bool: or/and). */
export function combineLanes(L: Lanes, c: string, fam: 'float' | 'int' | 'bool', acc: E, v: E): E {
  if (fam === 'float') {
    switch (c) {
      case 'sum': return L.fadd(acc, v);
      case 'prod': return L.fmul(acc, v);
      case 'max': return L.fmax(acc, v);
      case 'min': return L.fmin(acc, v);
    }
  } else if (fam === 'int') {
    switch (c) {
      case 'sum': return L.iadd(acc, v);
      case 'prod': return L.imul(acc, v);
      case 'max': return L.imax(acc, v);
      case 'min': return L.imin(acc, v);
    }
  } else {
    return c === 'sum' || c === 'max' ? L.ior(acc, v) : L.iand(acc, v);
  }
  throw new KilnError(`internal: wasm: cannot combine with ${c}`);
}
