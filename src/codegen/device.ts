// The device interface every backend implements (cpu-ref, wasm, webgpu), and the registry of devices.
import { KilnError } from '../ir/error.js';
import type { HostArray } from '../ir/array.js';
import type { Block, Function } from '../ir/function.js';
import type { AnyAttrs, Primitive } from '../ir/ops.js';
import type { DType } from '../ir/dtype.js';
import type { Shape } from '../ir/shape.js';

/** A device-owned array; what it holds is the device's business. */
export interface DeviceBuffer {
  readonly dtype: DType;
  readonly shape: Shape;
}

/** A compiled Function: the unit jit caches and export writes. */
export interface Executable {
  readonly fn: Function;
  run(inputs: DeviceBuffer[]): DeviceBuffer[];
}

export interface CompileOptions {
  /**
   * Indices of parameters whose buffers the executable may reuse for results (jit's `donate`); the
   * caller never reads them again. A backend may ignore this (cpu-ref does).
   */
  donate?: readonly number[];
}

export interface Device {
  readonly name: string;
  upload(a: HostArray): DeviceBuffer;
  /** Reads a buffer back; may wait for queued work. */
  read(b: DeviceBuffer): Promise<HostArray>;
  /** Synchronous read; devices that cannot (WebGPU) throw a KilnError saying to use `await t.data()`. */
  readSync(b: DeviceBuffer): HostArray;
  /** Runs one primitive eagerly (a one-op kernel, cached by the device). */
  execute(prim: Primitive, inputs: DeviceBuffer[], attrs: AnyAttrs, regions: readonly Block[]): DeviceBuffer[];
  /** Compiles a whole (optimized) Function. */
  compile(fn: Function, opts?: CompileOptions): Executable;
  /** Frees a buffer now; afterwards it must not be used. */
  dispose(b: DeviceBuffer): void;
}

const factories = new Map<string, () => Device>();
const instances = new Map<string, Device>();

/** Registers a device under a name; the factory runs on first use so heavy backends load lazily. */
export function registerDevice(name: string, factory: () => Device): void {
  factories.set(name, factory);
  instances.delete(name);
}

export function getDevice(name: string): Device {
  let d = instances.get(name);
  if (d) return d;
  const make = factories.get(name);
  if (!make) throw new KilnError(`device: unknown device '${name}' (known: ${[...factories.keys()].join(', ')})`);
  d = make();
  instances.set(name, d);
  return d;
}

export function deviceNames(): string[] {
  return [...factories.keys()];
}

// ---- live buffer accounting (memory()) ---------------------------------------------------------------
// Tensors report the buffers they own: a buffer counts from the moment a Tensor wraps it until
// dispose() or until the buffer object is garbage collected (then the device's own finalizer, where it
// holds real memory, frees it too). Bytes are logical (elements × dtype size), equal for every device.

export interface DeviceMemory {
  buffers: number;
  bytes: number;
}
export interface MemoryInfo extends DeviceMemory {
  byDevice: Record<string, DeviceMemory>;
}

const ELEMENT_BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };
const liveByDevice = new Map<string, DeviceMemory>();
const trackedBuffers = new WeakMap<DeviceBuffer, { device: string; bytes: number }>();
const bufferFinalizer = new FinalizationRegistry<{ device: string; bytes: number }>((held) => count(held.device, -1, -held.bytes));

function count(device: string, buffers: number, bytes: number): void {
  let m = liveByDevice.get(device);
  if (!m) liveByDevice.set(device, (m = { buffers: 0, bytes: 0 }));
  m.buffers += buffers;
  m.bytes += bytes;
}

/** Starts counting `b` as live on `device` (a buffer already counted is not counted twice). */
export function trackBuffer(device: string, b: DeviceBuffer): void {
  if (trackedBuffers.has(b)) return;
  let n = 1;
  for (const d of b.shape) n *= d;
  const held = { device, bytes: n * (ELEMENT_BYTES[b.dtype] ?? 4) };
  trackedBuffers.set(b, held);
  bufferFinalizer.register(b, held, b);
  count(device, 1, held.bytes);
}

/** Stops counting `b` (it was disposed). */
export function untrackBuffer(b: DeviceBuffer): void {
  const held = trackedBuffers.get(b);
  if (!held) return;
  trackedBuffers.delete(b);
  bufferFinalizer.unregister(b);
  count(held.device, -1, -held.bytes);
}

/** Live device buffers owned by tensors: in total and per device. */
export function memory(): MemoryInfo {
  const byDevice: Record<string, DeviceMemory> = {};
  let buffers = 0;
  let bytes = 0;
  for (const [name, m] of liveByDevice) {
    byDevice[name] = { buffers: m.buffers, bytes: m.bytes };
    buffers += m.buffers;
    bytes += m.bytes;
  }
  return { buffers, bytes, byDevice };
}
