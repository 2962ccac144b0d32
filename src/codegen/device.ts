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
