// The `wgsl` section: the WebGPU backend's compiled kernels as JSON — per kernel its buffers (role,
// dtype, size, baked constant data) and its phases (WGSL source, bindings, packing, launch size) —
// plus the device limits the shaders were emitted for. The kernels line up with the IR's kernel ops
// (codegen/wgsl/exec.ts kernelOps order); the runtime checks each against the op it runs for.
// Reading validates every field; WGSL is handed to the GPU's shader compiler, never evaluated as JS.
import { KilnError } from '../ir/error.js';
import type { DType } from '../ir/dtype.js';
import { isRecord } from './bytes.js';
import type { JsonNumber } from './wasm_plan.js';

export const WGSL_PLAN_VERSION = 1;

/** The limits the shaders assume (the WebGPU defaults every adapter offers, when exported by Kiln). */
export interface WgslLimits {
  readonly maxStorageBuffers: number;
  readonly maxThreads: number;
  readonly maxWorkgroupsPerDim: number;
  readonly maxWorkgroupStorage: number;
}

export interface WgslBuffer {
  readonly role: 'input' | 'const' | 'output';
  readonly dtype: Exclude<DType, 'float64'>;
  /** Elements. */
  readonly size: number;
  /** A const buffer's values (one value fills it). */
  readonly data?: readonly JsonNumber[];
}

export interface WgslPhase {
  readonly code: string;
  readonly bindings: readonly number[];
  readonly pack?: { readonly buffers: readonly number[]; readonly offsets: readonly number[]; readonly words: number };
  readonly workgroups: number;
  readonly threads: number;
  readonly mode: 'threads' | 'rows' | 'serial' | 'contract';
  readonly scratchWords?: number;
}

export interface WgslKernel {
  readonly name: string;
  readonly buffers: readonly WgslBuffer[];
  readonly phases: readonly WgslPhase[];
}

export interface WgslPlanFile {
  readonly version: number;
  readonly limits: WgslLimits;
  readonly kernels: readonly WgslKernel[];
}

const MAX_KERNELS = 100_000;
const MAX_BUFFERS = 4096;
const MAX_PHASES = 64;
const MAX_CODE = 4 * 1024 * 1024;
const ROLES = ['input', 'const', 'output'];
const DTYPES = ['float32', 'int32', 'bool'];
const MODES = ['threads', 'rows', 'serial', 'contract'];

function bad(msg: string): never {
  throw new KilnError(`artifact: section wgsl: ${msg}`);
}

const isNat = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

function nat(what: string, x: unknown, max = Number.MAX_SAFE_INTEGER): number {
  if (!isNat(x) || x > max) bad(`${what} must be an integer in [0, ${max}], got ${JSON.stringify(x)?.slice(0, 40)}`);
  return x;
}

function fields(what: string, x: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (!isRecord(x)) bad(`${what} must be an object`);
  for (const k of Object.keys(x)) if (!allowed.includes(k)) bad(`${what} has an unknown field ${JSON.stringify(k)}`);
  return x;
}

function list(what: string, x: unknown, max: number): unknown[] {
  if (!Array.isArray(x) || x.length > max) bad(`${what} must be an array of at most ${max} items`);
  return x;
}

const isJsonNumber = (v: unknown): boolean => (typeof v === 'number' && Number.isFinite(v)) || v === 'nan' || v === 'inf' || v === '-inf' || v === '-0';

function buffer(what: string, x: unknown, maxElements: number): WgslBuffer {
  const b = fields(what, x, ['role', 'dtype', 'size', 'data']);
  if (!ROLES.includes(b.role as string)) bad(`${what}.role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(b.role)}`);
  if (!DTYPES.includes(b.dtype as string)) bad(`${what}.dtype must be one of ${DTYPES.join(', ')} (WGSL has no float64), got ${JSON.stringify(b.dtype)}`);
  const size = nat(`${what}.size`, b.size, maxElements);
  if (b.role === 'const') {
    const data = list(`${what}.data`, b.data, size);
    if (data.length !== 1 && data.length !== size) bad(`${what}.data holds ${data.length} values for ${size} elements`);
    if (!data.every(isJsonNumber)) bad(`${what}.data must hold numbers`);
  } else if (b.data !== undefined) bad(`${what} is not const but has data`);
  return b as unknown as WgslBuffer;
}

function phase(what: string, x: unknown, buffers: readonly WgslBuffer[], limits: WgslLimits): WgslPhase {
  const p = fields(what, x, ['code', 'bindings', 'pack', 'workgroups', 'threads', 'mode', 'scratchWords']);
  if (typeof p.code !== 'string' || p.code.length === 0 || p.code.length > MAX_CODE) bad(`${what}.code must be WGSL source of at most ${MAX_CODE} characters`);
  const n = buffers.length;
  for (const i of list(`${what}.bindings`, p.bindings, limits.maxStorageBuffers)) {
    if (!(Number.isSafeInteger(i) && (i as number) >= -1 && (i as number) < n)) bad(`${what}.bindings holds ${JSON.stringify(i)}, not a buffer index below ${n} (or -1 for scratch)`);
  }
  if (p.scratchWords !== undefined) nat(`${what}.scratchWords`, p.scratchWords, 2 ** 28);
  if (p.pack !== undefined) {
    const pk = fields(`${what}.pack`, p.pack, ['buffers', 'offsets', 'words']);
    const bs = list(`${what}.pack.buffers`, pk.buffers, n);
    const offs = list(`${what}.pack.offsets`, pk.offsets, n);
    const words = nat(`${what}.pack.words`, pk.words, 2 ** 28);
    if (bs.length !== offs.length) bad(`${what}.pack lists ${bs.length} buffers and ${offs.length} offsets`);
    bs.forEach((i, j) => {
      if (!isNat(i) || i >= n) bad(`${what}.pack.buffers[${j}] is not a buffer index below ${n}`);
      const off = nat(`${what}.pack.offsets[${j}]`, offs[j]);
      if (off + buffers[i].size > words) bad(`${what}.pack puts buffer ${i} (${buffers[i].size} elements) at ${off}, past its ${words} words`);
    });
  }
  nat(`${what}.workgroups`, p.workgroups, limits.maxWorkgroupsPerDim * limits.maxWorkgroupsPerDim);
  nat(`${what}.threads`, p.threads, limits.maxThreads);
  if (!MODES.includes(p.mode as string)) bad(`${what}.mode must be one of ${MODES.join(', ')}`);
  return p as unknown as WgslPhase;
}

/** Validates a parsed wgsl section; `maxElements` bounds every buffer (LoadOptions.maxElements). */
export function checkWgslPlan(x: unknown, maxElements: number): WgslPlanFile {
  const f = fields('the plan', x, ['version', 'limits', 'kernels']);
  if (f.version !== WGSL_PLAN_VERSION) bad(`version ${JSON.stringify(f.version)} is not ${WGSL_PLAN_VERSION}`);
  const l = fields('limits', f.limits, ['maxStorageBuffers', 'maxThreads', 'maxWorkgroupsPerDim', 'maxWorkgroupStorage']);
  const limits: WgslLimits = {
    maxStorageBuffers: nat('limits.maxStorageBuffers', l.maxStorageBuffers, 1024),
    maxThreads: nat('limits.maxThreads', l.maxThreads, 4096),
    maxWorkgroupsPerDim: nat('limits.maxWorkgroupsPerDim', l.maxWorkgroupsPerDim, 2 ** 31),
    maxWorkgroupStorage: nat('limits.maxWorkgroupStorage', l.maxWorkgroupStorage, 2 ** 31),
  };
  const kernels = list('kernels', f.kernels, MAX_KERNELS).map((k, i): WgslKernel => {
    const w = `kernels[${i}]`;
    const kr = fields(w, k, ['name', 'buffers', 'phases']);
    if (typeof kr.name !== 'string' || kr.name.length > 256) bad(`${w}.name must be a string of at most 256 characters`);
    const buffers = list(`${w}.buffers`, kr.buffers, MAX_BUFFERS).map((b, j) => buffer(`${w}.buffers[${j}]`, b, maxElements));
    const phases = list(`${w}.phases`, kr.phases, MAX_PHASES).map((p, j) => phase(`${w}.phases[${j}]`, p, buffers, limits));
    // The scratch buffer (binding -1) is one per kernel, as large as its largest phase asks.
    if (phases.some((p) => p.bindings.includes(-1)) && !phases.some((p) => (p.scratchWords ?? 0) > 0)) bad(`${w} binds scratch (-1) but declares no scratchWords`);
    return { name: kr.name, buffers, phases };
  });
  return { version: WGSL_PLAN_VERSION, limits, kernels };
}
